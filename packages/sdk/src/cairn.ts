import type { CairnEventData } from './core/events.js';
import type { CairnOptions } from './core/options.js';
import type { PageProps } from './core/page-view.js';
import { startCore } from './core/start-core.js';
import { startHead } from './head/start-head.js';
import { promptUi } from './prompts/index.js';
import type { Consent, History, Profile, Touches } from './types.js';
import { showDebug } from './variants/debug.js';

export type { CairnOptions } from './core/options.js';
export type { PageProps } from './core/page-view.js';
export type { CairnEventData } from './core/events.js';

// The SDK's public API, and createCairn for bundlers: the head (src/head) and the core
// (src/core/start-core.ts) at once. The script tag runs the head before first paint and the core
// after it (src/entry).

export interface Cairn {
  /** Records a page view. Title, product and category default to the page's (<meta name="cairn:product|category">). */
  page(props?: PageProps): Promise<void>;
  /** Records a custom event; `name` is snake_case. */
  track(name: string, props?: Record<string, unknown>): void;
  touch(): Touches;
  history(): Promise<History>;
  /** The synced profile (merged across devices once identified), or null. */
  profile(): Promise<Profile | null>;
  /** Links this device to a user, with a token signed by the storefront's backend. Resolves to the merged profile. */
  identify(userId: string, token: string): Promise<Profile>;
  /** Logout: wipes every trace of the profile from the device and starts a new anonymous device. */
  reset(): Promise<void>;
  consent(state: Consent): void;
  /**
   * Listens to an event type, or `*` for all. Recorded events (`page`, `touch`, custom names, the
   * variants' and prompts' events) get the event; `profile` (pulled at start for an identified
   * device) and `identify` get the profile; `reset` gets nothing. Returns the unsubscribe.
   */
  on<K extends string>(event: K, fn: (data: CairnEventData<K>) => void): () => void;
  /** Sends the outbox now. */
  flush(): Promise<void>;
  /** Resolves once storage is open and the device id settled. Never rejects. */
  ready: Promise<void>;
}

/** The SDK: the head and the core at once (the script tag runs the core after first paint instead: src/entry). */
export function createCairn(options: CairnOptions = {}): Cairn {
  return startCore(startHead(options, showDebug), promptUi);
}
