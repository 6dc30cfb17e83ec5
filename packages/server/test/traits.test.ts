// CRM traits from the store's backend: PUT replaces, PATCH merges (null removes), DELETE removes a
// key, GET reads. The admin key or a narrower backend key; bad input gets a 400 naming the field;
// traits reach the profile of the user's linked devices only, never an anonymous one's, and change
// its ETag; they are never logged.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile, TraitsResponse } from '@cairn/schema';
import { createLogger } from '../src/log.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { admin, bearer, config, harness, id, pageEvent, SITE, type Harness } from './helpers/http.js';

const BACKEND = 'test-backend-key-0123456789abcdefghijkl';
const SHOP_BACKEND = 'shop-backend-key-0123456789abcdefghijk';
const OTHER_BACKEND = 'other-backend-key-0123456789abcdefghij';

const traitsUrl = (user: string, site = SITE) => `/v1/users/${encodeURIComponent(user)}/traits?site=${site}`;

describe.each(makeStores())('traits on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db, {
      backendKey: BACKEND,
      siteKeys: { sites: { shop: { backendKey: SHOP_BACKEND } }, envStems: { OTHER: { backendKey: OTHER_BACKEND } } },
    });
    expect((await h.req('PUT', '/v1/config', { body: config(), headers: admin })).status).toBe(200);
  });
  afterAll(() => db.cleanup());

  const put = (user: string, body: unknown, key = BACKEND, site = SITE) =>
    h.req('PUT', traitsUrl(user, site), { body, headers: bearer(key) });
  const patch = (user: string, body: unknown, key = BACKEND) =>
    h.req('PATCH', traitsUrl(user), { body, headers: bearer(key) });
  const get = (user: string, key = BACKEND) => h.req('GET', traitsUrl(user), { headers: bearer(key) });

  /** A device with a page view; linked to `user` when given. */
  async function device(user?: string): Promise<{ dev: string; token: string }> {
    const dev = id();
    const token = `token-${id()}`;
    const r = await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: dev, events: [pageEvent()] },
      headers: bearer(token),
    });
    expect(r.status).toBe(202);
    if (user) expect(await h.store.link(SITE, dev, user, 1_700_000_000_000)).toBe('linked');
    return { dev, token };
  }
  const profile = async (d: { dev: string; token: string }) => {
    const r = await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${d.dev}`, { headers: bearer(d.token) });
    expect(r.status).toBe(200);
    return { etag: r.headers.get('etag'), body: (await r.json()) as Profile };
  };

  describe('the endpoints', () => {
    it('PUT creates a user the site has not seen yet, and replaces every trait; GET reads them', async () => {
      const user = `crm-${id()}`;
      expect((await get(user)).status).toBe(404);
      const r = await put(user, { tier: 'vip', orders: 3, lapsed: false });
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      const body = (await r.json()) as TraitsResponse;
      expect(body).toEqual({
        userId: user,
        traits: { tier: 'vip', orders: 3, lapsed: false },
        updatedAt: expect.any(Number),
      });
      expect(body.updatedAt).toBeGreaterThan(0);
      expect((await (await get(user)).json()) as TraitsResponse).toEqual(body);
      // The user exists now: the privacy export lists the traits.
      const exported = await h.req('GET', `/v1/users/${user}/export?site=${SITE}`, { headers: admin });
      expect(exported.status).toBe(200);
      expect(((await exported.json()) as { traits: unknown }).traits).toEqual({
        tier: 'vip',
        orders: 3,
        lapsed: false,
      });

      const replaced = (await (await put(user, { segment: 'b2b' })).json()) as TraitsResponse;
      expect(replaced.traits).toEqual({ segment: 'b2b' });
    });

    it('PATCH merges, keeps the order, and null removes a key; DELETE removes one key', async () => {
      const user = `crm-${id()}`;
      expect((await put(user, { a: 1, b: 'two', c: true })).status).toBe(200);
      const merged = (await (await patch(user, { b: null, d: 'four', a: 10 })).json()) as TraitsResponse;
      expect(merged.traits).toEqual({ a: 10, c: true, d: 'four' });
      expect(Object.keys(merged.traits)).toEqual(['a', 'c', 'd']);

      const del = await h.req('DELETE', `/v1/users/${user}/traits/c?site=${SITE}`, { headers: bearer(BACKEND) });
      expect(del.status).toBe(200);
      const after = (await del.json()) as TraitsResponse;
      expect(after.traits).toEqual({ a: 10, d: 'four' });
      // A key that is not there: nothing changes, not even the time.
      const again = await h.req('DELETE', `/v1/users/${user}/traits/c?site=${SITE}`, { headers: bearer(BACKEND) });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(after);
      // A PATCH may create the user too; a DELETE never does.
      const fresh = `crm-${id()}`;
      expect(
        (await h.req('DELETE', `/v1/users/${fresh}/traits/a?site=${SITE}`, { headers: bearer(BACKEND) })).status,
      ).toBe(404);
      expect((await get(fresh)).status).toBe(404);
      expect(((await (await patch(fresh, { a: 1, b: null })).json()) as TraitsResponse).traits).toEqual({ a: 1 });
    });

    it('a PATCH whose merged result holds over 50 keys is refused, naming the first key past it, and changes nothing', async () => {
      const user = `crm-${id()}`;
      const fortyNine = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, i]));
      expect((await put(user, fortyNine)).status).toBe(200);
      const before = await (await get(user)).json();
      const r = await patch(user, { k0: 'changed', x1: 1, x2: 2 });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: 'too_many_traits', field: 'x2' });
      expect(await (await get(user)).json()).toEqual(before);
      // Removing as many as it adds fits.
      const fits = await patch(user, { k1: null, x1: 1, x2: 2 });
      expect(fits.status).toBe(200);
      expect(Object.keys(((await fits.json()) as TraitsResponse).traits)).toHaveLength(50);
    });

    it('two PATCHes at once both apply: no lost update', async () => {
      const user = `crm-${id()}`;
      expect((await put(user, {})).status).toBe(200);
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => patch(user, { [`p${i}`]: i })));
      expect(rs.map((r) => r.status)).toEqual(rs.map(() => 200));
      expect(Object.keys(((await (await get(user)).json()) as TraitsResponse).traits).sort()).toEqual(
        Array.from({ length: 12 }, (_, i) => `p${i}`).sort(),
      );
    });
  });

  describe('bad input: a 4xx naming the field, nothing written', () => {
    const cases: [string, () => Promise<Response>, number, string | undefined][] = [
      ['a nested object', () => put('u-bad', { tier: { level: 1 } }), 400, 'tier'],
      ['a list value', () => put('u-bad', { tier: ['a'] }), 400, 'tier'],
      ['null in a PUT', () => put('u-bad', { tier: null }), 400, 'tier'],
      ['a value over 1,000 characters', () => put('u-bad', { note: 'x'.repeat(1001) }), 400, 'note'],
      ['a key with a dash', () => put('u-bad', { 'bad-key': 1 }), 400, 'bad-key'],
      ['a key starting with a digit', () => patch('u-bad', { '1st': 1 }), 400, '1st'],
      [
        '51 keys',
        () => put('u-bad', Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))),
        400,
        'k50',
      ],
      [
        'an array body',
        () => h.req('PUT', traitsUrl('u-bad'), { raw: '[1]', headers: bearer(BACKEND) }),
        400,
        undefined,
      ],
      ['no body', () => h.req('PUT', traitsUrl('u-bad'), { raw: '', headers: bearer(BACKEND) }), 400, undefined],
      [
        'not JSON',
        () => h.req('PATCH', traitsUrl('u-bad'), { raw: '{tier', headers: bearer(BACKEND) }),
        400,
        undefined,
      ],
      ['NUL in a value', () => put('u-bad', { tier: 'a\u0000b' }), 400, 'tier'],
      [
        'no site',
        () => h.req('PUT', '/v1/users/u-bad/traits', { body: { a: 1 }, headers: bearer(BACKEND) }),
        400,
        'site',
      ],
      ['a bad site', () => put('u-bad', { a: 1 }, BACKEND, 'bad site!'), 400, 'site'],
      [
        'a user id over 128 characters',
        () => h.req('PUT', traitsUrl('u'.repeat(129)), { body: { a: 1 }, headers: bearer(BACKEND) }),
        400,
        'id',
      ],
      [
        'NUL in the user id',
        () => h.req('PUT', `/v1/users/%00/traits?site=${SITE}`, { body: { a: 1 }, headers: bearer(BACKEND) }),
        400,
        'id',
      ],
      [
        'a bad key to delete',
        () => h.req('DELETE', `/v1/users/u-bad/traits/bad-key?site=${SITE}`, { headers: bearer(BACKEND) }),
        400,
        'key',
      ],
      [
        'a body over 64 KB',
        () =>
          h.req('PUT', traitsUrl('u-bad'), {
            raw: JSON.stringify({ a: 'x'.repeat(70_000) }),
            headers: bearer(BACKEND),
          }),
        413,
        undefined,
      ],
    ];
    it.each(cases)('%s', async (_name, send, status, field) => {
      const before = await h.snapshot();
      const r = await send();
      expect(r.status).toBe(status);
      const body = (await r.json()) as { error: string; field?: string };
      expect(body.field).toBe(field);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('keys', () => {
    it('the global backend key and the admin key reach every site; a site backend key its own site only', async () => {
      const user = `crm-${id()}`;
      expect((await put(user, { a: 1 }, BACKEND, 'elsewhere')).status).toBe(200);
      expect((await put(user, { a: 1 }, SHOP_BACKEND, 'shop')).status).toBe(200);
      expect((await put(user, { a: 1 }, OTHER_BACKEND, 'other')).status).toBe(200);
      expect((await put(user, { a: 1 }, admin.authorization.slice(7), 'elsewhere')).status).toBe(200);
      for (const [key, site] of [
        [SHOP_BACKEND, 'other'],
        [OTHER_BACKEND, 'shop'],
        [SHOP_BACKEND, 'elsewhere'],
      ] as const) {
        const r = await put(user, { a: 2 }, key, site);
        expect(r.status, `${site}`).toBe(403);
        expect(await r.json()).toMatchObject({ error: 'forbidden_site', field: 'site' });
      }
      // Without ?site=, a site's key reaches nothing.
      expect((await h.req('GET', `/v1/users/${user}/traits`, { headers: bearer(SHOP_BACKEND) })).status).toBe(403);
    });

    it('a backend key reaches the traits endpoints only', async () => {
      const user = `crm-${id()}`;
      expect((await put(user, { a: 1 })).status).toBe(200);
      for (const key of [BACKEND, SHOP_BACKEND]) {
        const headers = bearer(key);
        const refused = [
          await h.req('PUT', '/v1/config', { body: config(), headers }),
          await h.req('GET', `/v1/users/${user}/export?site=${SITE}`, { headers }),
          await h.req('DELETE', `/v1/users/${user}?site=${SITE}`, { headers }),
          await h.req('GET', `/v1/reports/channels?site=${SITE}`, { headers }),
        ];
        expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401]);
      }
      expect((await get(user)).status).toBe(200);
    });

    it('no key, a wrong one, or a malformed header: 401, nothing written', async () => {
      const before = await h.snapshot();
      for (const headers of [{}, bearer(`wrong-${BACKEND}`), { authorization: 'Basic abc' }]) {
        const r = await h.req('PUT', traitsUrl('u-nokey'), { body: { a: 1 }, headers });
        expect(r.status).toBe(401);
      }
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('the profile', () => {
    it("carries the user's traits on every linked device, never on an anonymous one, and they change its ETag", async () => {
      const user = `crm-${id()}`;
      const phone = await device(user);
      const anonymous = await device();
      const p0 = await profile(phone);
      expect(p0.body.traits).toBeUndefined();
      const a0 = await profile(anonymous);

      expect((await put(user, { tier: 'vip' })).status).toBe(200);
      const p1 = await profile(phone);
      expect(p1.body.traits).toEqual({ tier: 'vip' });
      expect(p1.etag).not.toBe(p0.etag);
      // The anonymous device's profile is as it was, byte for byte.
      const a1 = await profile(anonymous);
      expect(a1.body.traits).toBeUndefined();
      expect(a1.etag).toBe(a0.etag);

      // A device linked later gets them; a PATCH changes the ETag again.
      const laptop = await device(user);
      expect((await profile(laptop)).body.traits).toEqual({ tier: 'vip' });
      expect((await patch(user, { orders: 2 })).status).toBe(200);
      const p2 = await profile(phone);
      expect(p2.body.traits).toEqual({ tier: 'vip', orders: 2 });
      expect(p2.etag).not.toBe(p1.etag);
      // Every key removed: the profile is the one without traits again.
      await patch(user, { tier: null, orders: null });
      const p3 = await profile(phone);
      expect('traits' in p3.body).toBe(false);
      expect(p3.etag).not.toBe(p2.etag);
    });

    it('traits set before the person ever logged in reach the device they log in on', async () => {
      const user = `crm-${id()}`;
      expect((await put(user, { tier: 'gold' })).status).toBe(200);
      const exported = (await (
        await h.req('GET', `/v1/users/${user}/export?site=${SITE}`, { headers: admin })
      ).json()) as { devices: unknown[]; traits: unknown };
      expect(exported).toMatchObject({ devices: [], traits: { tier: 'gold' } });
      const phone = await device();
      expect((await profile(phone)).body.traits).toBeUndefined();
      expect(await h.store.link(SITE, phone.dev, user, 1_700_000_000_000)).toBe('linked');
      expect((await profile(phone)).body.traits).toEqual({ tier: 'gold' });
    });

    it('a device whose user is erased loses the traits, and the traits are gone', async () => {
      const user = `crm-${id()}`;
      const phone = await device(user);
      expect((await put(user, { tier: 'vip' })).status).toBe(200);
      expect((await profile(phone)).body.traits).toEqual({ tier: 'vip' });
      expect((await h.req('DELETE', `/v1/users/${user}?site=${SITE}`, { headers: admin })).status).toBe(200);
      expect((await profile(phone)).body.traits).toBeUndefined();
      expect((await get(user)).status).toBe(404);
      expect(JSON.stringify((await h.snapshot()).user_traits)).not.toContain(user);
    });
  });
});

describe('traits and the logs', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('never writes a trait value (or key) to the log, on success or on error', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const h = await harness(db, { backendKey: BACKEND, logger: createLogger('info', sink) });
    const value = `Quokka-tier-${id()}`;
    const headers = bearer(BACKEND);
    const statuses = [
      (await h.req('PUT', traitsUrl('alice'), { body: { secretTrait: value }, headers })).status,
      (await h.req('PATCH', traitsUrl('alice'), { body: { secretTrait: { nested: value } }, headers })).status,
      (await h.req('PATCH', traitsUrl('alice'), { raw: `{"secretTrait": "${value}`, headers })).status,
      (await h.req('GET', traitsUrl('alice'), { headers })).status,
      (await h.req('DELETE', `/v1/users/alice/traits/secretTrait?site=${SITE}`, { headers })).status,
    ];
    expect(statuses).toEqual([200, 400, 400, 200, 200]);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const text = lines.join('\n');
    expect(text).not.toContain(value);
    expect(text).not.toContain('secretTrait');
    expect(text).not.toContain(BACKEND);
    expect(text).toContain('/v1/users/:id/traits');
  });
});

describe('the failed-key allowance', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('is the admin routes’ one: once spent, even the right backend key gets 429', async () => {
    const h = await harness(db, {
      backendKey: BACKEND,
      rateLimit: { ip: false, device: false, adminFailures: { perSecond: 0.001, burst: 3 } },
    });
    for (let i = 0; i < 3; i++)
      expect(
        (await h.req('GET', traitsUrl('alice'), { headers: bearer(`wrong-key-${i}-0123456789abcdefghij`) })).status,
      ).toBe(401);
    const r = await h.req('PUT', traitsUrl('alice'), { body: { a: 1 }, headers: bearer(BACKEND) });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBeTruthy();
    // The admin routes share it.
    expect((await h.req('GET', `/v1/users/alice/export?site=${SITE}`, { headers: admin })).status).toBe(429);
  });

  it('with no admin or backend key at all, the endpoints are off', async () => {
    const off = sqliteDb();
    try {
      const h = await harness(off, { adminKey: undefined as unknown as string });
      const r = await h.req('GET', traitsUrl('alice'), { headers: bearer(BACKEND) });
      expect(r.status).toBe(403);
      expect(await r.json()).toMatchObject({ error: 'admin_disabled' });
    } finally {
      await off.cleanup();
    }
  });
});
