import { campaignKey, SESSION_MS } from '../state/session.js';
import type { History, PageView, Profile, Session, Touch } from '../types.js';

// The visit history on the device: one value under the Kv key `h`, changed only through atomic
// updates, so tabs recording at once lose nothing. Versioned: `v: 1`; older shapes are migrated on
// read (see `migrate`). Products and categories are read off the page views (and the synced
// profile's), so they are never out of step with them.

/**
 * On-device caps, oldest dropped first. Copied from LIMITS in @cairn/schema (the SDK takes no
 * runtime values from it); sessions are the SDK's own.
 */
export const CAPS = { pageViews: 200, touches: 50, products: 50, categories: 30, sessions: 50 };

export interface StoredHistory {
  v: 1;
  /** Sessions, oldest first. */
  s: Session[];
  /** Page views, oldest first. */
  p: PageView[];
  /** The touch journey, oldest first. */
  t: Touch[];
  /** Page views ever recorded on this device (not capped). */
  n: number;
}

/** The v0 shape (pre-release builds): the page views and the journey only, unversioned. */
export interface HistoryV0 {
  p: PageView[];
  t?: Touch[];
}

/** Any stored value, of any version (or garbage), to the current shape. v0 gains sessions and counts. */
export function migrate(raw: unknown): StoredHistory {
  const r = raw as Partial<StoredHistory> | null;
  if (r?.v == 1) return r as StoredHistory;
  const h: StoredHistory = { v: 1, s: [], p: [], t: [], n: 0 };
  if (!r?.v && Array.isArray(r?.p)) {
    for (const p of r.p) addPage(h, p, null);
    h.t = (r.t || []).slice(-CAPS.touches);
  }
  return h;
}

/** Unique by id, newest first (the stable sort keeps the order given for equal times), capped. */
const newest = <T extends { id?: string; at: number }>(a: T[], cap: number) =>
  a
    .filter((i) => i?.id)
    .sort((x, y) => y.at - x.at)
    .filter((i, n, all) => all.findIndex((j) => j.id == i.id) == n)
    .slice(0, cap);

/**
 * Records a page view in its session (created with `touch` when new), once by its id; returns the
 * new value.
 *
 * `join`: the session was decided in the sync state, which is not atomic across tabs, so tabs that
 * start a session at the same instant (a first visit, a link opened in several tabs after 30 idle
 * minutes) each make one. Here, inside the one atomic update, a session the history does not know
 * joins the latest one when that is still active and this page brings no other campaign.
 */
export function addPage(old: unknown, pv: PageView, touch: Touch | null, join?: 1): StoredHistory {
  const h = migrate(old);
  // Already there (spilled at a page hide, then recorded by the page itself): counted once.
  if (h.p.some((p) => p.id == pv.id)) return h;
  const at = pv.at;
  const l = h.s[h.s.length - 1];
  let s =
    h.s.find((x) => x.id == pv.session) ||
    (join &&
    l &&
    at - l.last < SESSION_MS &&
    (!touch || touch.channel == 'Direct' || campaignKey(touch) == campaignKey(l.touch))
      ? l
      : undefined);
  if (!s) h.s = [...h.s, (s = { id: pv.session, start: at, last: at, pages: 0, touch })].slice(-CAPS.sessions);
  s.pages++;
  s.last = Math.max(s.last, at);
  h.n++;
  h.p = [...h.p, { ...pv, session: s.id }].slice(-CAPS.pageViews);
  return h;
}

export function addTouch(old: unknown, t: Touch): StoredHistory {
  const h = migrate(old);
  h.t = [...h.t, t].slice(-CAPS.touches);
  return h;
}

/** The public History: this device's, with the page views and products of the synced (possibly cross-device) profile. */
export function toHistory(h: StoredHistory, pf?: Profile | null): History {
  // This device's first: profile page views lack a session (it is this device's notion).
  const pageViews = newest(
    [...h.p].reverse().concat((pf?.pageViews || []).map((p) => ({ session: '', ...p }))),
    CAPS.pageViews,
  );
  const ids = (k: 'product' | 'category', cap: number, more: { id: string; at: number }[] = []) =>
    newest(pageViews.map((p) => ({ id: p[k], at: p.at })).concat(more), cap).map((i) => i.id!);
  return {
    sessions: [...h.s].reverse(),
    pageViews,
    products: ids('product', CAPS.products, pf?.products),
    categories: ids('category', CAPS.categories, pf?.categories),
    touches: h.t,
  };
}
