import { afterAll, describe, expect, it } from 'vitest';
import { makeStores, type TestDb } from './helpers/db.js';
import { admin, harness, id, SITE } from './helpers/http.js';

// GET /v1/deliveries: the admin's delivery log, newest change first, without personal data.

describe.each(makeStores())('GET /v1/deliveries on $name', (db: TestDb) => {
  afterAll(() => db.cleanup());

  it('lists a site’s deliveries newest first, filters by status, and shows no payload nor device id', async () => {
    const h = await harness(db);
    const T = 1_767_000_000_000;
    const add = async (n: number, person: string, email?: string) => {
      const episode = id();
      const payload = JSON.stringify({
        idempotencyKey: episode,
        trigger: { id: 'cart', on: 'cart_abandoned' },
        person: { email: email ?? null },
      });
      await h.store.addDelivery({
        site: SITE,
        id: episode,
        triggerId: 'cart',
        person,
        url: 'http://127.0.0.1:9/hook',
        payload,
        startedAt: T,
        lastAt: T,
        nextAttemptAt: T + n,
        now: T + n,
      });
      return episode;
    };
    const a = await add(1, 'u:alice', 'alice@example.com');
    const b = await add(2, 'd:8d6f0a5e-device');
    // b delivered: claimed and recorded (the log's newest change).
    const claim = await h.store.claimDelivery(SITE, b, T + 10, 60_000);
    expect(claim).not.toBeNull();
    expect(
      await h.store.recordDelivery(SITE, b, claim as NonNullable<typeof claim>, {
        kind: 'delivered',
        at: T + 11,
        status: 200,
      }),
    ).toBe(true);
    await h.store.addDelivery({
      site: 'other-shop',
      id: id(),
      triggerId: 'cart',
      person: 'u:bob',
      url: 'http://127.0.0.1:9/hook',
      payload: '{}',
      startedAt: T,
      lastAt: T,
      nextAttemptAt: T,
      now: T,
    });

    const res = await h.req('GET', `/v1/deliveries?site=${SITE}`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    const body = JSON.parse(text) as { site: string; deliveries: Record<string, unknown>[] };
    expect(body.deliveries.map((d) => d.id)).toEqual([b, a]);
    expect(body.deliveries[0]).toMatchObject({
      trigger: 'cart',
      on: 'cart_abandoned',
      status: 'delivered',
      attempts: 1,
      lastStatus: 200,
      person: 'anonymous device',
      deliveredAt: T + 11,
      nextAttemptAt: null,
    });
    expect(body.deliveries[1]).toMatchObject({ status: 'pending', person: 'user alice', nextAttemptAt: T + 1 });
    expect(text).not.toContain('alice@example.com');
    expect(text).not.toContain('8d6f0a5e');
    expect(text).not.toContain('payload');

    const pending = await h.req('GET', `/v1/deliveries?site=${SITE}&status=pending&limit=5`, { headers: admin });
    expect(((await pending.json()) as { deliveries: { id: string }[] }).deliveries.map((d) => d.id)).toEqual([a]);
    const one = await h.req('GET', `/v1/deliveries?site=${SITE}&limit=1`, { headers: admin });
    expect(((await one.json()) as { deliveries: unknown[] }).deliveries).toHaveLength(1);
  });

  it('needs the admin key, and names the bad field', async () => {
    const h = await harness(db);
    expect((await h.req('GET', `/v1/deliveries?site=${SITE}`)).status).toBe(401);
    for (const [query, field] of [
      ['', 'site'],
      [`site=${SITE}&status=open`, 'status'],
      [`site=${SITE}&limit=0`, 'limit'],
      [`site=${SITE}&limit=9999`, 'limit'],
      [`site=${SITE}&limit=abc`, 'limit'],
    ]) {
      const res = await h.req('GET', `/v1/deliveries?${query}`, { headers: admin });
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { field?: string }).field, query).toBe(field);
    }
  });
});
