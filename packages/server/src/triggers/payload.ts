import type { DeviceKind, Profile, Traits, Trigger, WebhookBody } from '@cairn/schema';
import type { EpisodeFacts } from '../store/types.js';

// The webhook's JSON body (WebhookBody in @cairn/schema), built once when an episode becomes pending
// and stored: every attempt sends the same bytes, with the episode's id as the idempotency key.

/** At most this many products, categories and cart items in a body. */
export const WEBHOOK_LIST_CAP = 20;

type Item = WebhookBody['products'][number];

const item = (i: { id: string; at: number; device?: DeviceKind | undefined }): Item => ({
  id: i.id,
  at: i.at,
  ...(i.device ? { device: i.device } : {}),
});

/** Newest first, one per id, at most WEBHOOK_LIST_CAP. */
function newestUnique(items: readonly { id: string; at: number; device?: DeviceKind | undefined }[]): Item[] {
  const seen = new Set<string>();
  const out: Item[] = [];
  for (const i of [...items].sort((a, b) => b.at - a.at)) {
    if (seen.has(i.id)) continue;
    seen.add(i.id);
    out.push(item(i));
    if (out.length >= WEBHOOK_LIST_CAP) break;
  }
  return out;
}

export interface PayloadInput {
  trigger: Trigger;
  facts: EpisodeFacts;
  /** The channels of the trigger the person can be reached on (at least one). */
  channels: Trigger['channels'];
  /** The person's merged profile across every device (products, categories, touches). */
  profile: Profile;
  /** The user's CRM traits; only for an identified person. */
  traits: Traits | null;
  now: number;
}

export function buildWebhookBody({ trigger, facts, channels, profile, traits, now }: PayloadInput): WebhookBody {
  const { episode } = facts;
  const kinds: DeviceKind[] = [];
  for (const d of facts.devices) if (d.kind && !kinds.includes(d.kind)) kinds.push(d.kind);
  for (const p of profile.products) if (p.device && !kinds.includes(p.device)) kinds.push(p.device);
  return {
    idempotencyKey: episode.id,
    site: episode.site,
    trigger: { id: trigger.id, on: trigger.on },
    episode: { id: episode.id, startedAt: episode.startedAt, lastAt: episode.lastAt },
    person: {
      userId: facts.userId,
      ...(channels.includes('email') && facts.email !== null ? { email: facts.email } : {}),
      channels,
      ...(facts.userId !== null && traits && Object.keys(traits).length ? { traits } : {}),
    },
    products: newestUnique(profile.products),
    categories: newestUnique(profile.categories),
    cart: newestUnique(facts.cart),
    firstTouch: profile.firstTouch,
    lastTouch: profile.lastTouch,
    devices: kinds,
    createdAt: now,
  };
}
