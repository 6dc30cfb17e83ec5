import type { DeviceKind } from '@cairn/schema';
import { asKind } from './rows.js';
import type { Episode, EpisodeFacts, EpisodeRecord, ExportedEpisode } from './types.js';

// Row shapes and mapping shared by the SQLite and PostgreSQL trigger episode stores.

/** A trigger_episodes row as both dialects read it (times as numbers). */
export interface EpisodeRow {
  site: string;
  id: string;
  trigger_id: string;
  person: string;
  status: string;
  started_at: number;
  last_at: number;
  due_at: number;
  reason: string | null;
  url: string | null;
  payload: string | null;
  attempts: number;
  next_attempt_at: number | null;
  delivered_at: number | null;
  created_at: number;
  updated_at: number;
}

export function episodeFromRow(r: EpisodeRow): Episode {
  return {
    site: r.site,
    id: r.id,
    triggerId: r.trigger_id,
    person: r.person,
    startedAt: Number(r.started_at),
    lastAt: Number(r.last_at),
    dueAt: Number(r.due_at),
  };
}

const orNull = (v: number | null): number | null => (v === null ? null : Number(v));

export function episodeRecordFromRow(r: EpisodeRow): EpisodeRecord {
  return {
    ...episodeFromRow(r),
    status: r.status as EpisodeRecord['status'],
    reason: r.reason,
    url: r.url,
    payload: r.payload,
    attempts: Number(r.attempts),
    nextAttemptAt: orNull(r.next_attempt_at),
    deliveredAt: orNull(r.delivered_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function exportedEpisodeFromRow(r: EpisodeRow): ExportedEpisode {
  return {
    id: r.id,
    triggerId: r.trigger_id,
    status: r.status,
    reason: r.reason,
    startedAt: Number(r.started_at),
    lastAt: Number(r.last_at),
    createdAt: Number(r.created_at),
    deliveredAt: orNull(r.delivered_at),
    payload: r.payload === null ? null : (JSON.parse(r.payload) as unknown),
  };
}

/** 'u:<user id>' or 'd:<device id>': the person an episode belongs to. */
export const userPerson = (userId: string): string => `u:${userId}`;
export const devicePerson = (deviceId: string): string => `d:${deviceId}`;
/** The device of a 'd:' person, else null. */
export const personDevice = (person: string): string | null => (person.startsWith('d:') ? person.slice(2) : null);
/** The user of a 'u:' person, else null. */
export const personUser = (person: string): string | null => (person.startsWith('u:') ? person.slice(2) : null);

/** Every key a person's episodes may be under: their user's, and each of their devices'. */
export function personKeys(userId: string | null, deviceIds: string[]): string[] {
  return [...(userId === null ? [] : [userPerson(userId)]), ...deviceIds.map(devicePerson)];
}

export interface FactDeviceRow {
  device_id: string;
  kind: string | null;
  denied_at: number | null;
}

/** The latest of each event type the rules read, since the episode started. */
export interface FactEventRow {
  type: string;
  at: number;
}

export interface CartRow {
  product: string | null;
  at: number;
  device: string | null;
}

/** The cart's products, newest first, one per product, at most `cap`. */
export function cartFromRows(rows: CartRow[], cap: number): EpisodeFacts['cart'] {
  const seen = new Set<string>();
  const cart: EpisodeFacts['cart'] = [];
  for (const r of [...rows].sort((a, b) => Number(b.at) - Number(a.at))) {
    if (r.product === null || r.product === '' || seen.has(r.product)) continue;
    seen.add(r.product);
    const device: DeviceKind | null = asKind(r.device);
    cart.push({ id: r.product, at: Number(r.at), ...(device ? { device } : {}) });
    if (cart.length >= cap) break;
  }
  return cart;
}

/** The facts of an episode, from what the store read. */
export function factsFrom(
  episode: Episode,
  userId: string | null,
  devices: FactDeviceRow[],
  productViews: number,
  latest: FactEventRow[],
  cart: CartRow[],
  email: string | null,
  lastDeliveredAt: number | null,
): EpisodeFacts {
  const at = (type: string): number | null => {
    const r = latest.find((l) => l.type === type);
    return r ? Number(r.at) : null;
  };
  const emptied = at('cart_emptied');
  return {
    episode,
    userId,
    devices: devices.map((d) => ({
      deviceId: d.device_id,
      kind: asKind(d.kind),
      deniedAt: orNull(d.denied_at),
    })),
    productViews: Number(productViews),
    addedToCart: at('add_to_cart') !== null,
    purchased: at('purchase') !== null,
    cartEmptied: emptied !== null && emptied >= episode.lastAt,
    cart: cartFromRows(cart, CART_CAP),
    email,
    lastDeliveredAt: orNull(lastDeliveredAt),
  };
}

/** At most this many products in a webhook's cart (and its products and categories). */
export const CART_CAP = 20;
/** The add_to_cart rows read for the cart, before de-duplication. */
export const CART_SCAN = 200;
/** The event types an episode's rules read. */
export const RULE_TYPES = ['add_to_cart', 'purchase', 'cart_emptied'] as const;
