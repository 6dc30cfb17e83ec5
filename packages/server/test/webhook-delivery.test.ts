import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLog } from '../src/log.js';
import type { Store } from '../src/store/types.js';
import { deliverOne, type DeliverDeps } from '../src/triggers/deliver.js';
import { verifyWebhook } from '../src/triggers/sign.js';
import { makeStores, PG_TEST_URL, type TestDb } from './helpers/db.js';
import { startReceiver, type Answer, type Receiver } from './helpers/webhook-receiver.js';

// One attempt at a time against a real receiver on 127.0.0.1, with the clock and the jitter
// injected: the test moves time, so nothing sleeps through a backoff.

const SECRET = 'test-webhook-secret-0123456789abcdefgh';
const SITE = 'shop';
const T0 = Date.UTC(2026, 0, 10, 12);
const HOUR = 3_600_000;

describe.each(makeStores())('webhook delivery on $name', (db: TestDb) => {
  let store: Store;
  let receiver: Receiver;
  let answer: (nth: number, key: string) => Answer = () => ({ status: 200 });
  let clock = T0;
  const counted: string[] = [];
  const deps = (over: Partial<DeliverDeps> = {}): DeliverDeps => ({
    store,
    secretFor: (site) => (site === SITE ? SECRET : undefined),
    log: silentLog,
    now: () => clock,
    timeoutMs: 500,
    // random() = 0.5: each delay is half its ceiling, known to the test.
    backoff: { baseMs: 60_000, capMs: HOUR, random: () => 0.5 },
    count: (o) => counted.push(o),
    ...over,
  });

  beforeAll(async () => {
    store = await db.open();
    receiver = await startReceiver((r, nth) => answer(nth, r.key));
  });
  afterAll(async () => {
    await receiver.close();
    await db.cleanup();
  });

  const add = async (id = randomUUID()) => {
    const payload = JSON.stringify({ idempotencyKey: id, site: SITE, trigger: { id: 'cart', on: 'cart_abandoned' } });
    await store.addDelivery({
      site: SITE,
      id,
      triggerId: 'cart',
      person: 'u:alice',
      url: receiver.url,
      payload,
      startedAt: clock - HOUR,
      lastAt: clock - HOUR,
      nextAttemptAt: clock,
      now: clock,
    });
    return { id, payload };
  };
  const row = async (id: string) => (await store.listDeliveries(SITE, { limit: 500 })).find((r) => r.id === id);
  const sent = (id: string) => receiver.received.filter((r) => r.key === id);

  /** Runs the episode's attempts, moving the clock to each next attempt, until it ends or `max` runs. */
  async function runAll(id: string, max: number) {
    const results = [];
    for (let i = 0; i < max; i++) {
      const r = await deliverOne(deps(), SITE, id);
      results.push(r);
      if (r.result !== 'retry') break;
      clock = r.nextAttemptAt;
    }
    return results;
  }

  it('signs the stored body, sends the key, and a 2xx ends it', async () => {
    clock = T0;
    answer = () => ({ status: 204 });
    const { id, payload } = await add();
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'delivered', attempt: 1 });
    const [got] = sent(id);
    expect(got?.body).toBe(payload);
    expect(got?.headers['idempotency-key']).toBe(id);
    expect(got?.headers['user-agent']).toBe('Cairn-Webhooks/1');
    expect(got?.headers['content-type']).toBe('application/json');
    const header = String(got?.headers['cairn-signature']);
    expect(verifyWebhook(payload, header, SECRET, { now: Math.floor(clock / 1000) })).toMatchObject({ ok: true });
    expect(await row(id)).toMatchObject({ status: 'delivered', attempts: 1, lastStatus: 204, deliveredAt: clock });
    // Delivered is final: a later claim finds nothing, and nothing more is sent.
    clock += HOUR;
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'skipped' });
    expect(sent(id)).toHaveLength(1);
  });

  it('retries a 500 with exponential backoff, the same key every time, until a 2xx', async () => {
    clock = T0;
    answer = (nth) => (nth <= 3 ? { status: 500 } : { status: 200 });
    const { id } = await add();
    const start = clock;
    const results = await runAll(id, 10);
    expect(results.map((r) => r.result)).toEqual(['retry', 'retry', 'retry', 'delivered']);
    // Full jitter with random 0.5: half of base·2^(n-1).
    const times = results.flatMap((r) => (r.result === 'retry' ? [r.nextAttemptAt] : []));
    expect(times).toEqual([start + 30_000, start + 30_000 + 60_000, start + 30_000 + 60_000 + 120_000]);
    expect(sent(id).map((r) => r.key)).toEqual([id, id, id, id]);
    expect(new Set(sent(id).map((r) => r.body)).size).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'delivered', attempts: 4, lastStatus: 200, lastError: null });
  });

  it('records a timeout as a failed attempt, then retries', async () => {
    clock = T0;
    answer = (nth) => (nth === 1 ? 'hold' : { status: 200 });
    const { id } = await add();
    const first = await deliverOne(deps({ timeoutMs: 300 }), SITE, id);
    expect(first).toMatchObject({ result: 'retry', attempt: 1 });
    const log = await row(id);
    expect(log).toMatchObject({ status: 'retrying', attempts: 1, lastStatus: null });
    expect(log?.lastError).toMatch(/no answer within 300 ms/);
    // Not due yet: nothing is sent before its time.
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'skipped' });
    if (first.result === 'retry') clock = first.nextAttemptAt;
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'delivered', attempt: 2 });
    expect(sent(id)).toHaveLength(2);
  });

  it('honours Retry-After, in seconds and as an HTTP date', async () => {
    clock = T0;
    answer = (nth) =>
      nth === 1
        ? { status: 503, headers: { 'Retry-After': '120' } }
        : nth === 2
          ? { status: 429, headers: { 'Retry-After': new Date(clock + 7 * 60_000).toUTCString() } }
          : { status: 200 };
    const { id } = await add();
    const r1 = await deliverOne(deps(), SITE, id);
    expect(r1).toEqual({ result: 'retry', attempt: 1, nextAttemptAt: T0 + 120_000 });
    expect((await row(id))?.nextAttemptAt).toBe(T0 + 120_000);
    clock = T0 + 120_000;
    const r2 = await deliverOne(deps(), SITE, id);
    expect(r2).toEqual({ result: 'retry', attempt: 2, nextAttemptAt: T0 + 120_000 + 7 * 60_000 });
    clock = T0 + 120_000 + 7 * 60_000;
    expect(await deliverOne(deps(), SITE, id)).toMatchObject({ result: 'delivered' });
  });

  it('gives up after the window: failed, with the last status', async () => {
    clock = T0;
    answer = () => ({ status: 500 });
    const { id } = await add();
    const results = await runAll(id, 200);
    const last = results.at(-1);
    expect(last?.result).toBe('failed');
    // Every retry was inside the 24 h window from the first attempt, and the last one at its end at most.
    for (const r of results) if (r.result === 'retry') expect(r.nextAttemptAt).toBeLessThanOrEqual(T0 + 24 * HOUR);
    expect(clock).toBeLessThanOrEqual(T0 + 24 * HOUR);
    expect(clock).toBeGreaterThanOrEqual(T0 + 24 * HOUR - HOUR);
    const log = await row(id);
    expect(log).toMatchObject({
      status: 'failed',
      lastStatus: 500,
      reason: 'window_expired',
      attempts: results.length,
    });
    expect(sent(id)).toHaveLength(results.length);
    // Failed is final.
    clock += 48 * HOUR;
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'skipped' });
  });

  it('never follows a redirect: a 3xx is a failed attempt', async () => {
    clock = T0;
    answer = () => ({ status: 307, headers: { Location: 'https://elsewhere.example/hook' } });
    const { id } = await add();
    expect(await deliverOne(deps(), SITE, id)).toMatchObject({ result: 'retry', attempt: 1 });
    expect(await row(id)).toMatchObject({ status: 'retrying', lastStatus: 307 });
    expect((await row(id))?.lastError).toMatch(/redirect/);
  });

  it('sends nothing for an episode cancelled before its attempt', async () => {
    clock = T0;
    answer = () => ({ status: 200 });
    const { id } = await add();
    await cancel(db, id);
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'skipped' });
    expect(sent(id)).toHaveLength(0);
    expect(await row(id)).toMatchObject({ status: 'cancelled', attempts: 0 });
  });

  it('stops when a purchase cancels the episode between the claim and the send', async () => {
    clock = T0;
    answer = () => ({ status: 200 });
    const { id } = await add();
    // The purchase lands right after this worker claimed the row.
    const racing: Store = Object.create(store, {
      claimDelivery: {
        value: async (...args: Parameters<Store['claimDelivery']>) => {
          const claim = await store.claimDelivery(...args);
          await cancel(db, id);
          return claim;
        },
      },
    });
    expect(await deliverOne(deps({ store: racing }), SITE, id)).toEqual({ result: 'stopped' });
    expect(sent(id)).toHaveLength(0);
    expect(await row(id)).toMatchObject({ status: 'cancelled', reason: 'purchase' });
  });

  it('one claim at a time: a second worker skips while the first holds the lease', async () => {
    clock = T0;
    answer = () => ({ status: 200 });
    const { id } = await add();
    const claim = await store.claimDelivery(SITE, id, clock, 60_000);
    expect(claim?.attempt).toBe(1);
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'skipped' });
    // The holder died (kill -9): once its lease runs out, the next claim takes it, as attempt 2.
    clock += 60_000;
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'delivered', attempt: 2 });
    // The dead holder's late outcome changes nothing.
    expect(
      await store.recordDelivery(SITE, id, claim as NonNullable<typeof claim>, {
        kind: 'retry',
        at: clock,
        nextAttemptAt: clock,
        status: 500,
        error: 'late',
      }),
    ).toBe(false);
    expect(await row(id)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(sent(id)).toHaveLength(1);
  });

  it('a 2xx that comes back after its lease ran out still ends it: delivered, never sent again', async () => {
    clock = T0;
    const { id } = await add();
    // Attempt 1's worker is slow (its lease runs out mid-send); attempt 2 meets a receiver that
    // refuses the repeat (its idempotency key is already processed), then attempt 1's 2xx lands.
    const first = await store.claimDelivery(SITE, id, clock, 1000);
    if (!first) throw new Error('not claimed');
    clock += 1000;
    answer = () => ({ status: 409 });
    expect(await deliverOne(deps(), SITE, id)).toMatchObject({ result: 'retry', attempt: 2 });
    expect(await store.recordDelivery(SITE, id, first, { kind: 'delivered', at: clock, status: 200 })).toBe(true);
    expect(await row(id)).toMatchObject({ status: 'delivered', lastStatus: 200 });
    clock += 24 * HOUR;
    expect(await deliverOne(deps(), SITE, id)).toEqual({ result: 'skipped' });
    expect(sent(id)).toHaveLength(1);
  });

  it('counts outcomes for the metrics', () => {
    expect(counted).toContain('delivered');
    expect(counted).toContain('retry');
    expect(counted).toContain('failed');
  });
});

/** What H3's purchase handling does to an episode: cancelled, with its reason. */
async function cancel(db: TestDb, id: string): Promise<void> {
  const o = db.options;
  if (o.sqlitePath) {
    const d = new Database(o.sqlitePath);
    try {
      d.prepare("UPDATE trigger_episodes SET status = 'cancelled', reason = 'purchase' WHERE id = ?").run(id);
    } finally {
      d.close();
    }
    return;
  }
  const sql = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
  try {
    await sql`UPDATE ${sql(o.pgSchema as string)}.trigger_episodes SET status = 'cancelled', reason = 'purchase' WHERE id = ${id}`;
  } finally {
    await sql.end();
  }
}
