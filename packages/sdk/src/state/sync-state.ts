import type { Touch, Touches } from '../types.js';
import { uuid } from '../uuid.js';

// The small synchronous state, one versioned JSON value in localStorage under `cairn`. It exists so
// the session and the touches are decided before first paint, without awaiting IndexedDB.

/** A new session starts after this much inactivity. */
export const SESSION_MS = 30 * 60e3;

export interface SyncState {
  v: 1;
  /** Device id (mirror of the cookie). */
  d?: string;
  /**
   * A device id a tab made and has not settled yet (storage opens first): a tab starting meanwhile
   * takes it, with its token, instead of making another (two tabs of a first visit, one device).
   */
  n?: string;
  /** First touch ever, last non-Direct touch, this session's touch. */
  f?: Touch | null;
  l?: Touch | null;
  c?: Touch | null;
  /** Session id and its last activity (epoch ms). */
  s?: string;
  a?: number;
  /** This session's sticky variant: an id, null for "none", absent when not decided. */
  x?: string | null;
  /** The device's token: made here with a new device id (the server adopts it), or the server's. */
  t?: string;
  /** The sync server holds the token: a request carrying it succeeded. */
  k?: 1;
  /** The identified user id. */
  u?: string;
  /** Consent was granted explicitly (cairn.consent('granted')). */
  g?: 1;
}

/** Two touches are the same campaign when source, medium, campaign, term, content and click id agree. */
export const key = (t: Touch | null | undefined) => t && [t.source, t.medium, t.campaign, t.term, t.content, t.clickId?.value].join('\n');

/**
 * Enters a page (or any activity) at `now`, with the touch resolved for it (null: internal
 * navigation, or no new touch). Mutates `s`. A new session starts after 30 minutes of inactivity,
 * or when a non-Direct touch other than this session's arrives; a Direct touch mid-session is
 * ignored (a reopened tab). Returns the touch when it is new to the journey, else null.
 */
export function enter(s: SyncState, t: Touch | null, now: number): Touch | null {
  const nd = t && t.channel != 'Direct';
  const fresh = !s.s || now - s.a! >= SESSION_MS || (nd && key(t) != key(s.c));
  s.a = now;
  if (!fresh) return null;
  s.s = uuid();
  delete s.x;
  if (t) {
    s.c = t;
    s.f ||= t;
    if (nd) s.l = t;
  }
  return t;
}

export const touchesOf = (s: SyncState): Touches => ({ first: s.f || null, last: s.l || null, current: s.c || null });
