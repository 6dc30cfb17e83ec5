import type { History, PageView, Profile, Session, Touch } from '../types';
import { uuid } from '../uuid';

// The visit history on the device: one value under the Kv key `h`, changed only through atomic
// updates, so tabs recording at once lose nothing. Versioned: `v: 1`; older shapes are migrated on
// read (see `migrate`).

export const HISTORY_KEY = 'h';

/**
 * On-device caps, oldest dropped first. Copied from LIMITS in @cairn/schema (the SDK takes no
 * runtime values from it); sessions are the SDK's own.
 */
export const CAPS = { pageViews: 200, touches: 50, products: 50, categories: 30, sessions: 50 };

/** A product or category viewed, with when it was last viewed. */
export interface Item {
  id: string;
  at: number;
}

export interface StoredHistory {
  v: 1;
  /** Sessions, oldest first. */
  s: Session[];
  /** Page views, oldest first. */
  p: PageView[];
  /** The touch journey, oldest first. */
  t: Touch[];
  /** Products and categories, newest first, unique. */
  pr: Item[];
  ca: Item[];
  /** Page views ever recorded on this device (not capped). */
  n: number;
}

/** The v0 shape (pre-release builds): the page views and the journey only, unversioned. */
export interface HistoryV0 {
  p: PageView[];
  t?: Touch[];
}

const empty = (): StoredHistory => ({ v: 1, s: [], p: [], t: [], pr: [], ca: [], n: 0 });

/** Any stored value, of any version (or garbage), to the current shape. v0 gains sessions, products and counts. */
export function migrate(raw: unknown): StoredHistory {
  const r = raw as Partial<StoredHistory>;
  if (r?.v == 1) return r as StoredHistory;
  let h = empty();
  if (!r?.v && Array.isArray(r?.p)) {
    for (const p of r.p) h = addPage(h, p, null);
    h.t = (r.t || []).slice(-CAPS.touches);
  }
  return h;
}

/** Merges viewed items: unique by id with their latest time, newest first, capped. */
const top = (a: Item[], b: Item[] = [], cap: number) => {
  const m: Record<string, number> = {};
  for (const i of [...a, ...b]) if (i?.id) m[i.id] = Math.max(m[i.id] || 0, i.at);
  return Object.keys(m)
    .map((id) => ({ id, at: m[id]! }))
    .sort((x, y) => y.at - x.at)
    .slice(0, cap);
};

/** Records a page view, in its session (created with `touch` when new). Returns the new value. */
export function addPage(old: unknown, pv: PageView, touch: Touch | null): StoredHistory {
  const h = migrate(old);
  const at = pv.at;
  let s = h.s.find((x) => x.id == pv.session);
  if (!s) h.s = [...h.s, (s = { id: pv.session, start: at, last: at, pages: 0, touch })].slice(-CAPS.sessions);
  s.pages++;
  s.last = Math.max(s.last, at);
  h.n++;
  h.p = [...h.p, pv].slice(-CAPS.pageViews);
  h.pr = top([{ id: pv.product!, at }], h.pr, CAPS.products);
  h.ca = top([{ id: pv.category!, at }], h.ca, CAPS.categories);
  return h;
}

export function addTouch(old: unknown, t: Touch): StoredHistory {
  const h = migrate(old);
  h.t = [...h.t, t].slice(-CAPS.touches);
  return h;
}

const ids = (a: Item[], b: Item[] | undefined, cap: number) => top(a, b, cap).map((i) => i.id);

/** The public History: this device's, with the page views and products of the synced (possibly cross-device) profile. */
export function toHistory(h: StoredHistory, pf?: Profile | null): History {
  const pv: Record<string, PageView> = {};
  // Profile page views lack a session: it is this device's notion.
  for (const p of [...h.p].reverse().concat((pf?.pageViews || []).map((p) => ({ session: '', ...p })))) pv[p.id] ||= p;
  return {
    sessions: [...h.s].reverse(),
    // Newest first; the sort is stable, so page views of the same millisecond stay in the order recorded.
    pageViews: Object.values(pv)
      .sort((a, b) => b.at - a.at)
      .slice(0, CAPS.pageViews),
    products: ids(h.pr, pf?.products, CAPS.products),
    categories: ids(h.ca, pf?.categories, CAPS.categories),
    touches: h.t,
  };
}
