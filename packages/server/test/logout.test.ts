// Logout on the server, and device tokens that expire: a device logged out (or unused for 13
// months) reads and writes nothing, and is refused as a wrong token is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '@cairn/schema';
import { DEVICE_TOKEN_TTL_MS } from '../src/identity/device-auth.js';
import { hashToken } from '../src/identity/device-token.js';
import { signIdentity } from '../src/identity/identity-token.js';
import { atSchemaVersion, makeStores, type TestDb } from './helpers/db.js';
import { bearer, clientToken, harness, id, pageEvent, SECRET, SITE, type Harness } from './helpers/http.js';

const DAY = 86_400_000;

describe.each(makeStores())('POST /v1/logout on $name', (db: TestDb) => {
  let h: Harness;
  let clock = Date.now();
  beforeAll(async () => {
    h = await harness(db, { now: () => clock });
  });
  afterAll(() => db.cleanup());

  interface Device {
    dev: string;
    token: string;
  }
  const collect = (d: Device, headers = bearer(d.token)) =>
    h.req('POST', '/v1/collect', { body: { site: SITE, deviceId: d.dev, events: [pageEvent()] }, headers });
  const profile = (d: Device) =>
    h.req('GET', `/v1/profile?site=${SITE}&deviceId=${d.dev}`, { headers: bearer(d.token) });
  const optin = (d: Device) =>
    h.req('POST', '/v1/optins', {
      body: { id: id(), site: SITE, deviceId: d.dev, email: 'a@example.com', consentText: 'Yes', at: 1 },
      headers: bearer(d.token),
    });
  const identify = (d: Device, userId: string, previous?: { deviceId: string; token: string }) =>
    h.req('POST', '/v1/identify', {
      body: {
        site: SITE,
        deviceId: d.dev,
        userId,
        token: signIdentity({ userId, secret: SECRET, site: SITE, deviceId: d.dev, now: clock }),
        ...(previous ? { previous } : {}),
      },
      headers: bearer(d.token),
    });
  const logout = (d: Device, token = d.token) =>
    h.req('POST', '/v1/logout', { body: { site: SITE, deviceId: d.dev }, headers: bearer(token) });
  async function device(product = 'SKU-1'): Promise<Device> {
    const d = { dev: id(), token: clientToken() };
    const r = await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: d.dev, events: [pageEvent({ product })] },
      headers: bearer(d.token),
    });
    expect(r.status).toBe(202);
    return d;
  }
  /** The answer to a wrong token, which a logged-out device's requests must match exactly. */
  const answer = async (r: Response) => ({ status: r.status, body: await r.json() });

  it("revokes the device's token: it reads and writes nothing after, answered as a wrong token is", async () => {
    const d = await device();
    expect((await profile(d)).status).toBe(200);
    const wrong = { dev: d.dev, token: clientToken() };
    const refusals = {
      profile: await answer(await profile(wrong)),
      collect: await answer(await collect(wrong)),
      optin: await answer(await optin(wrong)),
    };
    expect(refusals.profile.status).toBe(401);

    const res = await logout(d);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ revoked: true });
    const before = await h.snapshot();
    expect(await answer(await profile(d))).toEqual(refusals.profile);
    expect(await answer(await collect(d))).toEqual(refusals.collect);
    expect(await answer(await optin(d))).toEqual(refusals.optin);
    expect(await answer(await identify(d, `u-${id()}`))).toEqual(refusals.collect);
    expect(await h.snapshot()).toEqual(before);
  });

  it('is idempotent for the token holder, and a wrong or missing token is refused (401) with nothing changed', async () => {
    const d = await device();
    const before = await h.snapshot();
    expect((await logout(d, clientToken())).status).toBe(401);
    expect((await h.req('POST', '/v1/logout', { body: { site: SITE, deviceId: d.dev } })).status).toBe(401);
    expect(await h.snapshot()).toEqual(before);
    expect((await logout(d)).status).toBe(200);
    const after = await h.snapshot();
    expect((await logout(d)).status).toBe(200);
    expect(await h.snapshot()).toEqual(after);
    // And the wrong token is still wrong once the device is revoked.
    expect(await answer(await logout(d, clientToken()))).toEqual(await answer(await profile(d)));
  });

  it("a linked device logged out no longer sees the user's merged profile; the user's other devices do", async () => {
    const user = `ann-${id()}`;
    const phone = await device('PHONE-SKU');
    const desk = await device('DESK-SKU');
    expect((await identify(phone, user)).status).toBe(200);
    expect((await identify(desk, user)).status).toBe(200);
    expect((await logout(desk)).status).toBe(200);
    expect((await profile(desk)).status).toBe(401);
    const merged = (await (await profile(phone)).json()) as Profile;
    expect(merged.userId).toBe(user);
    expect(merged.products.map((p) => p.id).sort()).toEqual(['DESK-SKU', 'PHONE-SKU']);
  });

  it('a beacon can log out: the token in the body of a text/plain POST', async () => {
    const d = await device();
    const res = await h.req('POST', '/v1/logout', {
      raw: JSON.stringify({ site: SITE, deviceId: d.dev, deviceToken: d.token }),
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
    });
    expect(res.status).toBe(200);
    expect((await profile(d)).status).toBe(401);
  });

  it('a logout that arrives before the device was ever seen leaves it revoked: a late request with the token cannot adopt it', async () => {
    const d = { dev: id(), token: clientToken() };
    expect((await logout(d)).status).toBe(200);
    expect((await collect(d)).status).toBe(401);
    expect((await profile(d)).status).toBe(401);
    // Too short to be a client's own token: adopts (and revokes) nothing.
    const short = { dev: id(), token: 'x'.repeat(20) };
    const before = await h.snapshot();
    expect((await logout(short)).status).toBe(401);
    expect(await h.snapshot()).toEqual(before);
  });

  it("identify's `previous` revokes the device this browser logged out of while offline, once the new one is linked", async () => {
    const user = `bo-${id()}`;
    const old = await device();
    expect((await identify(old, user)).status).toBe(200);
    const fresh = await device();
    // A wrong token for `previous` revokes nothing, and does not fail the login.
    const res1 = await identify(fresh, user, { deviceId: old.dev, token: clientToken() });
    expect(res1.status).toBe(200);
    expect((await profile(old)).status).toBe(200);
    const next = await device();
    const res2 = await identify(next, user, { deviceId: old.dev, token: old.token });
    expect(res2.status).toBe(200);
    expect((await profile(old)).status).toBe(401);
    expect((await profile(next)).status).toBe(200);
    // Naming itself as `previous` revokes nothing.
    expect((await identify(next, user, { deviceId: next.dev, token: next.token })).status).toBe(200);
    expect((await profile(next)).status).toBe(200);
  });

  it('a device token unused for 13 months expires; each use (recorded at most once a day) keeps it alive', async () => {
    const start = clock;
    const d = await device();
    const lastSeen = async () =>
      Number(
        ((await h.snapshot()).devices as Record<string, unknown>[]).find((r) => r.device_id === d.dev)?.last_seen_at,
      );
    const seenAtStart = await lastSeen();
    // Within a day: no write at all.
    clock = start + DAY / 2;
    const before = await h.snapshot();
    expect((await profile(d)).status).toBe(200);
    expect(await h.snapshot()).toEqual(before);
    expect(await lastSeen()).toBe(seenAtStart);
    // A use after a day is recorded...
    clock = start + 2 * DAY;
    expect((await collect(d)).status).toBe(202);
    expect(await lastSeen()).toBe(start + 2 * DAY);
    // ...and counts from then: almost 13 months later the token still works.
    clock = start + 2 * DAY + DEVICE_TOKEN_TTL_MS;
    expect((await profile(d)).status).toBe(200);
    // Unused for longer: refused, everywhere, as a wrong token is.
    const wrong = await answer(await profile({ dev: d.dev, token: clientToken() }));
    clock += DEVICE_TOKEN_TTL_MS + 1;
    const stale = await h.snapshot();
    expect(await answer(await profile(d))).toEqual(wrong);
    expect((await collect(d)).status).toBe(401);
    expect((await optin(d)).status).toBe(401);
    expect(await h.snapshot()).toEqual(stale);
    expect(DEVICE_TOKEN_TTL_MS).toBeGreaterThanOrEqual(395 * DAY);
    clock = Date.now();
  });
});

describe.each(makeStores())('migration 2 on a database in use, on $name', (db: TestDb) => {
  afterAll(() => db.cleanup());

  it('counts the devices it finds as used now: a device made 2 years ago and used daily keeps its token', async () => {
    const token = clientToken();
    const twoYearsAgo = Date.now() - 730 * DAY;
    await atSchemaVersion(db, 1, [
      `INSERT INTO devices (site, device_id, token_hash, created_at) VALUES ('${SITE}', 'old-device-1', '${hashToken(token)}', ${twoYearsAgo})`,
    ]);
    const before = Date.now();
    const h = await harness(db);
    const device = await h.store.getDevice(SITE, 'old-device-1');
    expect(device?.lastSeenAt).toBeGreaterThanOrEqual(before - 1000);
    expect(device?.revokedAt).toBeNull();
    const res = await h.req('GET', `/v1/profile?site=${SITE}&deviceId=old-device-1`, { headers: bearer(token) });
    expect(res.status).toBe(200);
  });
});
