// The script tag's deferred part (dist/cairn-core.<hash>.js), loaded by the head (src/entry/head.ts).
// After first paint it starts the core on what the head decided and held, replays the calls queued
// on the stub, records the automatic page view, and makes `window.cairn` the API.
import { startCore } from '../core/start-core.js';
import { warn } from '../errors.js';
import { loadPrompts } from '../prompts/load.js';
import { afterPaint } from '../util/dom.js';
import { showDebug } from '../variants/debug.js';
import { headStub } from './handover.js';
import type { Call } from './stub.js';

const stub = headStub();
// This file's tag, as the head made it, or as the page wrote it (an inline head): the prompts' UI
// is beside it. Not document.currentScript alone, which a script loader may leave unset.
const script = stub?._coreTag || (document.currentScript as HTMLScriptElement | null);

if (stub?._head && !stub._started) {
  stub._started = 1;
  afterPaint(() => {
    try {
      const api = startCore(
        stub._head,
        loadPrompts(script, (receive) => (stub._receivePrompts = receive)),
      );
      stub._showDebug = showDebug;
      if (stub._debug) showDebug(...stub._debug);
      const call = (queued: Call) => {
        const settle = queued?._settle;
        try {
          // Anything may have been pushed (cairn.push(5)): what is no call is skipped, not thrown.
          const [name, ...args] = queued || [];
          if (!name) return;
          const result = (api[name as keyof typeof api] as (...a: unknown[]) => unknown)(...args);
          // A call pushed without the stub has no caller to take its rejection (identify offline,
          // say): warned, never thrown into the page.
          settle ? Promise.resolve(result).then(...settle) : (result as Promise<unknown> | undefined)?.catch?.(warn);
        } catch (e) {
          settle ? settle[1](e) : warn(e);
        }
      };
      const { _autoPage: autoPage, ...methods } = api;
      // The stub becomes the API, so that a reference the page kept to it goes on working.
      Object.assign(stub, methods, { push: (...calls: Call[]) => calls.forEach(call) });
      stub._queue.splice(0).forEach(call);
      // Same id as a page view the head may have sent at a page hide: it counts once.
      if (stub._autoPage) autoPage();
      stub._ready(api.ready);
    } catch (e) {
      warn(e);
    }
  });
}
