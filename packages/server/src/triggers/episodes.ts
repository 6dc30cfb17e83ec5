import { parseDuration, type CairnEvent, type Trigger } from '@cairn/schema';
import type { AppCtx } from '../context.js';
import { emptyProfile } from '../store/profile.js';
import type {
  EpisodeCancelReason,
  EpisodeDecision,
  EpisodeFacts,
  EpisodeNotes,
  PendingEpisode,
} from '../store/types.js';
import { buildWebhookBody } from './payload.js';
import { matchTraits } from './traits-match.js';

// A person's trigger episodes. A collect's events open, extend or cancel them (noteEvents); the
// runner's poll evaluates the ones whose `after` has passed (evaluateDue): it re-checks the rules
// against the store and cancels them with a reason, or fixes their webhook payload ('pending').
// Every function takes `now`: tests control the clock.

export type TriggerDeps = Pick<AppCtx, 'store' | 'configs' | 'log'> & {
  /** An episode the evaluation cancelled (the metric cairn_webhook_deliveries_total{outcome="cancelled"}). */
  cancelled?: (reason: EpisodeCancelReason) => void;
};

const isProductView = (e: CairnEvent): boolean =>
  e.type === 'page' && typeof e.product === 'string' && e.product !== '';

/** The earliest and latest of the events' times, each taken as min(at, now): a client's clock is never ahead of the server's. */
function span(events: CairnEvent[], now: number): { first: number; last: number } | null {
  if (!events.length) return null;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    const at = Math.min(e.at, now);
    first = Math.min(first, at);
    last = Math.max(last, at);
  }
  return { first, last };
}

/** The shortest horizon: an hour. */
export const MIN_HORIZON_MS = 3_600_000;

/**
 * How old (by its own `at`, when received) an event may be and still open or extend an episode of the
 * trigger: its `after`, at least an hour. An older one (a seed's past month, a replayed queue) would
 * make an episode due at once; it still counts for cancelling (a late purchase cancels).
 */
export const horizonMs = (t: Trigger): number => Math.max(afterMs(t), MIN_HORIZON_MS);

/**
 * What a batch received at `now` does to the person's episodes. Opens or extends come first, then
 * cancels, each bound by the time of the event that cancels: events arrive late and out of order, and
 * a cancel applies to the episodes that had started by then (a cart emptied: whose last add came
 * before it). Times are the clients' clamped to `now`; events older than the trigger's horizon open
 * and extend nothing.
 */
export function episodeNotes(triggers: readonly Trigger[], events: readonly CairnEvent[], now: number): EpisodeNotes {
  const notes: EpisodeNotes = { extend: [], cancel: [] };
  const of = (on: Trigger['on']) => triggers.filter((t) => t.on === on);
  const viewEvents = events.filter(isProductView);
  const addEvents = events.filter((e) => e.type === 'add_to_cart');
  const adds = span(addEvents, now);
  const purchases = span(
    events.filter((e) => e.type === 'purchase'),
    now,
  );
  const emptied = span(
    events.filter((e) => e.type === 'cart_emptied'),
    now,
  );
  for (const [on, list] of [
    ['browse_abandoned', viewEvents],
    ['cart_abandoned', addEvents],
  ] as const) {
    for (const t of of(on)) {
      const since = now - horizonMs(t);
      const s = span(
        list.filter((e) => e.at >= since),
        now,
      );
      if (s) notes.extend.push({ triggerId: t.id, firstAt: s.first, lastAt: s.last, afterMs: afterMs(t) });
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
    const notes = episodeNotes(triggers, events, now);
    if (!notes.extend.length && !notes.cancel.length) return;
    await deps.store.noteEpisodes(site, deviceId, notes, now);
  } catch (e) {
    deps.log.error({ site, err: (e as Error).message }, 'trigger episodes: a collect was not noted');
  }
}

/** The channels of the trigger the person can be reached on: email when identified or opted in, sms when identified. */
export function reachableChannels(trigger: Trigger, facts: EpisodeFacts): Trigger['channels'] {
  const identified = facts.userId !== null;
  return trigger.channels.filter((c) => identified || (c === 'email' && facts.email !== null));
}

const cancel = (reason: EpisodeCancelReason): EpisodeDecision => ({ status: 'cancelled', reason });

/**
 * The rules, re-checked against the store when the episode is due: its trigger still configured,
 * nothing since it started that resolves it (a purchase; for browsing an add to cart or too few
 * products; for a cart its emptying), no refusal of consent on any of the person's devices, a channel
 * that reaches them, no delivery to them within the cooldown, their traits. Then the payload.
 */
export async function decide(deps: TriggerDeps, facts: EpisodeFacts, now: number): Promise<EpisodeDecision> {
  const { episode } = facts;
  const loaded = await deps.configs.get(episode.site);
  const trigger = loaded?.config.triggers.find((t) => t.id === episode.triggerId);
  if (!trigger) return cancel('config_removed');
  if (facts.purchased) return cancel('purchase');
  if (trigger.on === 'browse_abandoned') {
    if (facts.addedToCart) return cancel('add_to_cart');
    if (facts.productViews < trigger.minProductViews) return cancel('min_product_views');
  } else if (facts.cartEmptied) return cancel('cart_emptied');
  if (facts.devices.some((d) => d.deniedAt !== null)) return cancel('denied');
  const channels = reachableChannels(trigger, facts);
  if (!channels.length) return cancel('unreachable');
  if (facts.lastDeliveredAt !== null && facts.lastDeliveredAt > now - parseDuration(trigger.cooldown)) {
    return cancel('cooldown');
  }
  const first = facts.devices[0];
  // A linked device's profile is its user's, merged across every linked device (traits included).
  const profile = first ? await deps.store.profile(episode.site, first.deviceId) : emptyProfile();
  const traits = facts.userId === null ? null : (profile.traits ?? null);
  if (trigger.where?.traits && !matchTraits(trigger.where.traits, traits)) return cancel('audience');
  const body = buildWebhookBody({ trigger, facts, channels, profile, traits, now });
  return { status: 'pending', url: trigger.url, payload: JSON.stringify(body) };
}

/**
 * Evaluates up to `limit` episodes due at `now` (the runner's poll): each is cancelled with a reason
 * or made pending with its payload. Resolves to the pending ones, for the delivery queue. On
 * PostgreSQL several instances may call it at once: each episode is evaluated by one of them.
 */
export async function evaluateDue(deps: TriggerDeps, now: number, limit = 100): Promise<PendingEpisode[]> {
  return deps.store.evaluateDueEpisodes(
    now,
    limit,
    (facts) => decide(deps, facts, now),
    (episodeId, e) =>
      deps.log.error({ episode: episodeId, err: (e as Error).message }, 'trigger episode: evaluation failed'),
    (_episodeId, reason) => deps.cancelled?.(reason),
  );
}
