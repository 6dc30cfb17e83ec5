import { parseDuration, type CairnEvent, type Trigger } from '@cairn/schema';
import type { AppCtx } from '../context.js';
import type { EpisodeNotes } from '../store/types.js';

// A person's trigger episodes. A collect's events open, extend or cancel them (noteEvents); the
// runner's poll evaluates the ones whose `after` has passed (evaluateDue): it re-checks the rules
// against the store and cancels them with a reason, or fixes their webhook payload ('pending').
// Every function takes `now`: tests control the clock.

export type TriggerDeps = Pick<AppCtx, 'store' | 'configs' | 'log'>;

const isProductView = (e: CairnEvent): boolean =>
  e.type === 'page' && typeof e.product === 'string' && e.product !== '';

function span(events: CairnEvent[]): { first: number; last: number } | null {
  if (!events.length) return null;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    first = Math.min(first, e.at);
    last = Math.max(last, e.at);
  }
  return { first, last };
}

/**
 * What a batch does to the person's episodes. Opens or extends come first, then cancels, each bound
 * by the time of the event that cancels: events arrive late and out of order, and a cancel applies to
 * the episodes that had started by then (a cart emptied: whose last add came before it).
 */
export function episodeNotes(triggers: readonly Trigger[], events: readonly CairnEvent[]): EpisodeNotes {
  const notes: EpisodeNotes = { extend: [], cancel: [] };
  const of = (on: Trigger['on']) => triggers.filter((t) => t.on === on);
  const views = span(events.filter(isProductView));
  const adds = span(events.filter((e) => e.type === 'add_to_cart'));
  const purchases = span(events.filter((e) => e.type === 'purchase'));
  const emptied = span(events.filter((e) => e.type === 'cart_emptied'));
  for (const [on, s] of [
    ['browse_abandoned', views],
    ['cart_abandoned', adds],
  ] as const) {
    if (!s) continue;
    for (const t of of(on)) {
      notes.extend.push({ triggerId: t.id, firstAt: s.first, lastAt: s.last, afterMs: afterMs(t) });
    }
  }
  const ids = (list: Trigger[]) => list.map((t) => t.id);
  if (adds && of('browse_abandoned').length) {
    notes.cancel.push({
      triggerIds: ids(of('browse_abandoned')),
      reason: 'add_to_cart',
      at: adds.last,
      until: 'started',
      undelivered: false,
    });
  }
  if (emptied && of('cart_abandoned').length) {
    notes.cancel.push({
      triggerIds: ids(of('cart_abandoned')),
      reason: 'cart_emptied',
      at: emptied.last,
      until: 'last',
      undelivered: true,
    });
  }
  if (purchases) {
    notes.cancel.push({
      triggerIds: ids([...triggers]),
      reason: 'purchase',
      at: purchases.last,
      until: 'started',
      undelivered: true,
    });
  }
  return notes;
}

/** A trigger's `after`, in ms (validated by the schema). */
export function afterMs(t: Trigger): number {
  return parseDuration(t.after);
}

/**
 * After a collect's `store.ingest`: opens, extends or cancels the person's episodes. Nothing at all
 * when the site has no triggers. Never throws: a failure here must not fail the collect (it is logged;
 * the evaluation re-checks every rule against the events anyway).
 */
export async function noteEvents(
  deps: TriggerDeps,
  site: string,
  deviceId: string,
  events: readonly CairnEvent[],
  now: number,
): Promise<void> {
  try {
    const triggers = (await deps.configs.get(site))?.config.triggers;
    if (!triggers?.length) return;
    const notes = episodeNotes(triggers, events);
    if (!notes.extend.length && !notes.cancel.length) return;
    await deps.store.noteEpisodes(site, deviceId, notes, now);
  } catch (e) {
    deps.log.error({ site, err: (e as Error).message }, 'trigger episodes: a collect was not noted');
  }
}
