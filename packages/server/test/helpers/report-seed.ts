// A seeded shop for the report tests: devices of both kinds, users linked across devices, touches of
// every channel (and one no report knows), page views, purchases with repeated, conflicting and
// confirmed orders, opt-ins through prompts, and variant and prompt exposures in both arms.
import { CHANNELS, type CairnEvent, type DeviceKind } from '@cairn/schema';
import type { Store } from '../../src/store/types.js';

export const DAY = 86_400_000;
/** The seeded history starts here and runs for `days`. */
export const T0 = Date.UTC(2026, 0, 1);

/** mulberry32: the same numbers from the same seed, on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface SeedOptions {
  seed: number;
  devices: number;
  /** Events per device, on average. */
  eventsPerDevice: number;
  days: number;
  /** Moments every third device has a page view at: devices whose first events share a millisecond. */
  sharedMoments?: number[];
}

/** Seeds `site` and resolves to how many events it stored. */
export async function seedShop(store: Store, site: string, o: SeedOptions): Promise<number> {
  const random = prng(o.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const span = o.days * DAY;
  // Whole minutes: devices often share a millisecond, and their order then comes from the event ids.
  const minute = () => T0 + Math.floor(random() * (span / 60_000)) * 60_000;
  const channels = [...CHANNELS, 'Carrier Pigeon'];
  const sources = ['google', 'newsletter', 'facebook', ' partner ', ''];
  const batches: { deviceId: string; kind: DeviceKind | undefined; events: CairnEvent[] }[] = [];
  const orderIds: string[] = [];
  let stored = 0;
  let n = 0;
  // Ids in no particular order of device or time: ties of time are broken by them.
  const id = () =>
    `e${Math.floor(random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0')}-${(n++).toString(36)}`;

  for (let d = 0; d < o.devices; d++) {
    const deviceId = `dev-${o.seed}-${d.toString().padStart(5, '0')}`;
    const kind = random() < 0.45 ? 'mobile' : random() < 0.8 ? 'desktop' : undefined;
    const events: CairnEvent[] = [];
    const count = Math.max(1, Math.round(o.eventsPerDevice * (0.2 + random() * 1.6)));
    for (let i = 0; i < count; i++) {
      const at = minute();
      const r = random();
      const ev = (type: string, props: Record<string, unknown>) =>
        events.push({ id: id(), type, at, ...props } as CairnEvent);
      if (r < 0.6) ev('page', { path: `/p/${i % 9}`, title: 'P', ...(random() < 0.5 ? { device: kind } : {}) });
      else if (r < 0.72) {
        const channel = pick(channels);
        ev('touch', { touch: { channel, source: pick(sources), medium: 'x', landingPath: '/', at } });
      } else if (r < 0.8) {
        // Orders: new ones, one this device sent before, or one another device sent (a conflict).
        const reuse = orderIds.length > 0 && random() < 0.3;
        const orderId = reuse ? pick(orderIds) : random() < 0.15 ? undefined : `ord-${orderIds.length}`;
        if (orderId && !reuse) orderIds.push(orderId);
        const value = Math.round(random() * 20_000) / 100;
        ev('purchase', {
          ...(orderId ? { orderId } : {}),
          value: random() < 0.05 ? -1 : value,
          currency: pick(['EUR', 'EUR', 'USD', 'eur', 'nope']),
        });
      } else if (r < 0.83) ev('add_to_cart', { sku: 'a', value: 3, currency: 'EUR' });
      else if (r < 0.9) {
        const variant = pick(['v-hero', 'v-price', 'v-banner']);
        ev(random() < 0.5 ? 'variant_applied' : 'variant_held', {
          variant,
          ...(random() < 0.05 ? { preview: true } : {}),
        });
      } else if (r < 0.96) {
        const prompt = pick(['p-news', 'p-exit']);
        ev(pick(['prompt_shown', 'prompt_held', 'prompt_dismissed', 'prompt_submitted']), {
          prompt,
          ...(random() < 0.5 ? { device: pick(['mobile', 'desktop', 'tv']) } : {}),
        });
      } else ev('custom', { label: 'x' });
    }
    if (d % 3 === 0)
      for (const at of o.sharedMoments ?? [])
        events.push({ id: id(), type: 'page', at, path: '/', title: 'P' } as CairnEvent);
    batches.push({ deviceId, kind, events });
  }

  // Received in an order of their own: an order's first claim is not always its earliest `at`.
  const pieces = batches.flatMap((b) => {
    const out = [];
    for (let i = 0; i < b.events.length; i += 25) out.push({ ...b, events: b.events.slice(i, i + 25) });
    return out;
  });
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
  }
  for (const p of pieces) stored += (await store.ingest(site, p.deviceId, p.events, 'h', p.kind)).accepted;

  // Users across devices, linked at various times (some before the history, some inside it).
  const users = Math.max(1, Math.floor(o.devices / 4));
  for (const b of batches) {
    if (random() < 0.45) await store.link(site, b.deviceId, `user-${Math.floor(random() * users)}`, minute());
  }
  // Opt-ins, some through a prompt.
  for (let i = 0; i < o.devices / 2; i++) {
    const b = pick(batches);
    await store.addOptin({
      id: `optin-${o.seed}-${i}`,
      site,
      deviceId: b.deviceId,
      email: `p${i}@example.com`,
      consentText: 'yes',
      at: minute(),
      ...(random() < 0.6 ? { promptId: pick(['p-news', 'p-exit']) } : {}),
    });
  }
  // The backend confirms some orders, naming a device or not, and one nobody's browser reported.
  for (const orderId of [...orderIds.filter(() => random() < 0.4), 'ord-backend-only']) {
    const b = pick(batches);
    await store.confirmOrder(site, {
      orderId,
      value: Math.round(random() * 10_000) / 100,
      currency: pick(['EUR', 'USD']),
      deviceId: random() < 0.7 ? b.deviceId : null,
      confirmedAt: minute(),
    });
  }
  return stored;
}
