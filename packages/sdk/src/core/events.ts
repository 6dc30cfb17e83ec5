import { CairnError, guard } from '../errors.js';
import type { CairnEvent, Profile } from '../types.js';
import { uuid } from '../uuid.js';

// The page's listeners (cairn.on), and the events the SDK records, as mitt keeps its handlers.

/** What an `on` listener gets: the profile for `profile` and `identify`, nothing for `reset`, else the recorded event. */
export type CairnEventData<K extends string> = K extends 'profile' | 'identify'
  ? Profile
  : K extends 'reset'
    ? undefined
    : string extends K
      ? unknown
      : CairnEvent;

type Listener = (data: unknown) => void;

export interface Emitter {
  /** Listens to a type, or `*` for all; returns the unsubscribe. */
  _on(type: string, listener: Listener): () => void;
  /** Calls the type's listeners, then the `*` ones; a listener that throws is warned, never rethrown. */
  _fire(type: string, data?: unknown): void;
}

export function createEmitter(): Emitter {
  const listeners: Record<string, Listener[]> = {};
  return {
    _on(type, listener) {
      (listeners[type] ||= []).push(listener);
      return () => void (listeners[type] = listeners[type]!.filter((l) => l != listener));
    },
    _fire: (type, data) => [...(listeners[type] || []), ...(listeners['*'] || [])].forEach((l) => guard(l)(data)),
  };
}

/**
 * A custom event, as the SDK stores and sends it: the name is snake_case; JSON drops what the
 * server cannot take (functions, undefined), and long strings are cut.
 */
export function customEvent(type: string, props?: Record<string, unknown>): CairnEvent {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(type)) throw new CairnError('invalid');
  const clean = JSON.parse(JSON.stringify(props || {}, (_, v) => (typeof v == 'string' ? v.slice(0, 2e3) : v)));
  return { ...clean, id: uuid(), type, at: Date.now() };
}
