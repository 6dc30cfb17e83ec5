// Types shared by the SDK's modules. Wire and config types come from @cairn/schema as type-only
// imports, so zod never reaches the bundle.
import type { Touch, SiteConfig, DeviceKind, Traits, TraitsMatcher } from '@cairn/schema';

export type {
  Touch,
  Channel,
  SiteConfig,
  SiteConfigInput,
  Variant,
  Prompt,
  PromptContent,
  SlotAction,
  Matcher,
  TraitsMatcher,
  Traits,
  Profile,
  DeviceKind,
  CairnEvent,
  CollectResponse,
  IdentifyResponse,
} from '@cairn/schema';

export type Consent = 'granted' | 'denied' | 'pending';

/** The touches the SDK keeps synchronously, so variants can be decided before first paint. */
export interface Touches {
  /** The first touch ever seen on this device. */
  first: Touch | null;
  /** The last touch that was not Direct. */
  last: Touch | null;
  /** The touch of this visit (session). */
  current: Touch | null;
}

export interface PageView {
  id: string;
  path: string;
  title: string;
  at: number;
  session: string;
  product?: string;
  category?: string;
  /** The form factor it was seen on; set on page views merged from other devices too. */
  device?: DeviceKind;
}

export interface Session {
  id: string;
  start: number;
  last: number;
  pages: number;
  touch: Touch | null;
}

export interface History {
  sessions: Session[];
  /** Newest first. Includes page views merged from linked devices. */
  pageViews: PageView[];
  /** Product SKUs viewed, newest first, unique. */
  products: string[];
  /** Category slugs viewed, newest first, unique. */
  categories: string[];
  /** The multi-touch journey, oldest first. */
  touches: Touch[];
}

/**
 * Key-value storage with an atomic read-modify-write. IndexedDB (idb-keyval) when it is there,
 * else localStorage, else memory; consent decides whether anything persists at all.
 */
export interface Kv {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Atomic across tabs: `fn` sees the latest value and nothing else writes in between. Resolves to what was written. */
  update<T>(key: string, fn: (old: T | undefined) => T): Promise<T>;
  del(key: string): Promise<void>;
}

/** Emits an event through the SDK: recorded, sent to the sync server, and passed to `cairn.on` listeners. */
export type Emit = (type: string, props?: Record<string, unknown>) => void;

/** What the head hands to the variants module. Everything it needs is synchronous. */
export interface VariantContext {
  /** Possibly unvalidated (inline config): read optional and defaulted fields defensively. */
  config: SiteConfig;
  touches: Touches;
  /** The person's CRM traits the config names, once identified; undefined on an anonymous device. */
  traits?: Traits;
  device: DeviceKind;
  url: URL;
  doc: Document;
  /** This visit's sticky choice: the variant id (or null for "none"), undefined when not decided yet. */
  sticky: {
    get(): string | null | undefined;
    set(id: string | null): void;
    /**
     * The holdout's arm for `key` at this share (true: held out), decided once and kept. Left out, no
     * one is held out. Null without consent: no one is held out, and no exposure is sent.
     */
    _heldOut?(key: string, share: number): boolean | null;
  };
  emit: Emit;
  /** Shows the debug panel (?cairn_debug=1) once the page is parsed: the chosen variant and why each other one missed. */
  debug?: (doc: Document, touches: Touches, chosen: string, misses: { id: string; reason: string }[]) => void;
}

/** What the core hands to the prompts module, once this page view is recorded. */
export interface PromptContext {
  /** Possibly unvalidated (inline config): read optional and defaulted fields defensively. */
  config: SiteConfig;
  doc: Document;
  device: DeviceKind;
  path: string;
  touch: Touch | null;
  sessionId: string;
  /** This page view's number in the visit and on the device, counted atomically across tabs. */
  pages: { session: number; lifetime: number };
  identified: boolean;
  /** Prompts keep their own state (shown, dismissed, opted in) under the key 'prompts'. */
  kv: Kv;
  emit: Emit;
  /** POST /v1/optins through the core; rejects with an Error when it fails. */
  submitOptin(o: { email: string; consentText: string; promptId: string }): Promise<void>;
  /** The URL account prompts send the visitor back to after login. */
  returnUrl: string;
  /** As VariantContext's sticky._heldOut: the prompt's holdout arm (key `prompt:<id>`); null without consent. */
  _heldOut?(key: string, share: number): boolean | null;
  /** Whether the person's CRM traits match `want` (a prompt's `audience.traits`); left out, they never do. */
  _traits?(want: TraitsMatcher): boolean;
  /** False once a later page view took over, whose own decision this one must not pre-empt; left out, always current. */
  _current?(): boolean;
}
