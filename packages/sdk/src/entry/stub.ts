import type { Cairn } from '../cairn.js';
import type { Head } from '../head/start-head.js';
import type { ShowPrompt } from '../prompts/decide.js';
import type { Touches, VariantContext } from '../types.js';

export type ShowDebug = NonNullable<VariantContext['debug']>;

// Between the head and the core, `window.cairn` is a stub: every method queues its call (in the
// snippet's array format) and answers once the core has run it, so a storefront may call
// `cairn.identify(...)`, `await cairn.ready` or `cairn.touch()` at any time.

/** A queued call: the method's name and arguments; `_settle` answers a call made through the stub. */
export type Call = [keyof Cairn | string, ...unknown[]] & {
  _settle?: [(value: unknown) => void, (error: unknown) => void];
};

export interface Stub {
  push(...calls: Call[]): void;
  touch(): Touches;
  ready: Promise<void>;
  _head: Head;
  /** The build's token, then the head's functions that the core reuses instead of carrying copies (build.mjs). */
  _lib?: unknown[];
  _queue: Call[];
  /** Resolves `ready`, once the core is. */
  _ready: (ready: Promise<void>) => void;
  /** Record the automatic page view. */
  _autoPage: boolean;
  /** The debug panel's arguments, shown by the core; `_showDebug` once it runs. */
  _debug?: Parameters<ShowDebug>;
  _showDebug?: ShowDebug;
  /** Set once the core has taken over. */
  _started?: 1;
  /** Set once the head stored and sent what it held, the visitor leaving. */
  _left?: 1;
  /** The core could not be loaded: `ready` resolves, and every call settles (the ones awaited for a value reject). */
  _fail(error: Error): void;
  /** The core's tag, as the head made it: the prompts' UI is beside it, with its nonce. */
  _coreTag?: HTMLScriptElement;
  /** Takes the prompts' UI from its file, once the core asked for it (src/prompts/load.ts). */
  _receivePrompts?: (show: ShowPrompt) => void;
  [method: string]: unknown;
}

const METHODS = ['page', 'track', 'identify', 'reset', 'consent', 'flush', 'history', 'profile'];
/** The calls awaited for a value; the others resolve whatever happens, as the API's do. */
const VALUED = ['identify', 'history', 'profile'];

export function createStub(queue: Call[], head: Head, touches: () => Touches, autoPage: boolean): Stub {
  let resolveReady: (ready: Promise<void>) => void = () => {};
  const stub: Stub = {
    push: (...calls) => void queue.push(...calls),
    touch: touches,
    ready: new Promise((resolve) => (resolveReady = resolve)),
    _head: head,
    _queue: queue,
    _ready: (ready) => resolveReady(ready),
    _autoPage: autoPage,
    _fail(error) {
      resolveReady(Promise.resolve());
      const settle = (call: Call | undefined) => {
        call?._settle?.[VALUED.includes(call[0]) ? 1 : 0](error);
        if (call) delete call._settle;
      };
      // The calls stay queued: a denial or a logout among them still takes effect at page hide.
      queue.forEach(settle);
      // Later calls settle at once.
      stub.push = (...calls) => calls.forEach((call) => (queue.push(call), settle(call)));
      for (const method of METHODS)
        stub[method] = (...args: unknown[]) => (
          queue.push([method, ...args] as Call), VALUED.includes(method) ? Promise.reject(error) : Promise.resolve()
        );
    },
    on(...args: unknown[]) {
      let off: (() => void) | undefined;
      const call = ['on', ...args] as Call;
      call._settle = [(unsubscribe) => (off = unsubscribe as () => void), () => {}];
      queue.push(call);
      // Unsubscribed before the core ran: the call is emptied, and skipped.
      return () => (off ? off() : (call.length = 0));
    },
  };
  for (const method of METHODS)
    stub[method] = (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const call = [method, ...args] as Call;
        call._settle = [resolve, reject];
        queue.push(call);
      });
  return stub;
}
