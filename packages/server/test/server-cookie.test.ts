// The server-set cookie (identity.serverCookie) and recovery after a wipe of script storage: what
// the cookie looks like, what it is bound to, and what proves what.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile, RecoverResponse } from '@cairn/schema';
import { signIdentity } from '../src/identity/identity-token.js';
import { makeStores, type TestDb } from './helpers/db.js';
import {
  admin,
  bearer,
  clientToken,
  config,
  harness,
  id,
  ORIGIN,
  pageEvent,
  SECRET,
  SITE,
  touch,
  type Harness,
} from './helpers/http.js';

const NAME = 'cairn_sid';
/** Its name when Secure: host-only, never set by script nor with a Domain (browsers refuse those). */
const HOST_NAME = `__Host-${NAME}`;
const DAY = 86_400_000;

/** The `name=value` of the server cookie a response sets, and its attributes. */
function setCookie(r: Response, name = NAME): { value: string; attributes: string[] } | undefined {
  const line = r.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));
  if (!line) return undefined;
  const [first = '', ...attributes] = line.split(/;\s*/);
  return { value: first.slice(name.length + 1), attributes };
}
const cookieHeader = (value: string) => ({ cookie: `other=1; ${NAME}=${value}` });

describe.each(makeStores())('server-set cookie on $name', (db: TestDb) => {
  let h: Harness;
  let plain: Harness;
  let insecure: Harness;
  const clock = 1_700_000_000_000;
  beforeAll(async () => {
    h = await harness(db, { now: () => clock, configTtlMs: 0 });
    const put = await h.req('PUT', '/v1/config', {
      body: config({ identity: { serverCookie: {} } }),
      headers: admin,
    });
    expect(put.status).toBe(200);
    plain = await harness(db, { now: () => clock, configTtlMs: 0, trustProxy: true });
    insecure = await harness(db, { now: () => clock, configTtlMs: 0, insecureCookies: true });
  });
  afterAll(() => db.cleanup());

  interface Device {
    dev: string;
    token: string;
  }
  const collect = (d: Device, headers: Record<string, string> = {}, events = [pageEvent()], on = h) =>
    on.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: d.dev, events },
      headers: { ...bearer(d.token), origin: ORIGIN, ...headers },
    });
  const recover = (headers: Record<string, string> = {}) =>
    h.req('POST', `/v1/recover?site=${SITE}`, { body: { site: SITE }, headers: { origin: ORIGIN, ...headers } });
  /** A device that collected once, and the secret its answer set. */
  async function device(): Promise<Device & { secret: string }> {
    const d = { dev: id(), token: clientToken() };
    const r = await collect(d, {}, [
      { id: id(), type: 'touch', at: clock - 1000, touch: touch({ at: clock - 1000 }) } as never,
      pageEvent({ product: 'SKU-EARLY' }),
    ]);
    expect(r.status).toBe(202);
    const set = setCookie(r);
    expect(set).toBeDefined();
    return { ...d, secret: set!.value };
  }

  it('rides on the collect answer: HttpOnly, SameSite=Lax, 13 months, host-only (no Domain)', async () => {
    const d = { dev: id(), token: clientToken() };
    const r = await collect(d);
    expect(r.status).toBe(202);
    const set = setCookie(r)!;
    expect(set.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(set.value).not.toContain(d.dev);
    // Plain http on loopback (this harness's requests go to http://localhost): not Secure, no prefix.
    expect(set.attributes).toEqual(['Path=/', 'Max-Age=34214400', 'HttpOnly', 'SameSite=Lax']);
    // Credentialed CORS: the exact origin, with credentials allowed.
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(r.headers.get('access-control-allow-credentials')).toBe('true');
    // Carried back and still bound: not set again (no extra work, no renewal past 13 months).
    expect(setCookie(await collect(d, cookieHeader(set.value)))).toBeUndefined();
  });

  it('preflights allow credentials for the exact origin (DELETE /v1/server-cookie needs one)', async () => {
    const r = await h.req('OPTIONS', `/v1/server-cookie?site=${SITE}`, {
      headers: { origin: ORIGIN, 'access-control-request-method': 'DELETE' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(r.headers.get('access-control-allow-credentials')).toBe('true');
  });

  /** A request to the sync server at `url` (another host than the harness's localhost). */
  const at = (url: string, body: unknown, headers: Record<string, string> = {}, on = h) =>
    on.app.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
      body: JSON.stringify(body),
    });
  const collectAt = (url: string, on = h) => {
    const d = { dev: id(), token: clientToken() };
    return at(`${url}/v1/collect`, { site: SITE, deviceId: d.dev, events: [pageEvent()] }, bearer(d.token), on);
  };

  it('is Secure and __Host- on https, behind a trusted proxy that says https, and on plain http off loopback', async () => {
    const secure = ['Path=/', 'Max-Age=34214400', 'HttpOnly', 'SameSite=Lax', 'Secure'];
    expect(setCookie(await collectAt('https://sync.shop.example'), HOST_NAME)?.attributes).toEqual(secure);
    const proxied = await collect(
      { dev: id(), token: clientToken() },
      { 'x-forwarded-proto': 'https' },
      undefined,
      plain,
    );
    expect(setCookie(proxied, HOST_NAME)?.attributes).toEqual(secure);
    // Plain http on a real host: Secure all the same (the browser keeps it for https only).
    expect(setCookie(await collectAt('http://sync.shop.example'), HOST_NAME)?.attributes).toEqual(secure);
    // Without trustProxy the header is anyone's to send: not believed (loopback: plain).
    const spoofed = await collect({ dev: id(), token: clientToken() }, { 'x-forwarded-proto': 'https' });
    expect(setCookie(spoofed)?.attributes).not.toContain('Secure');
    // The dev opt-out (insecureCookies, CAIRN_INSECURE_COOKIES=1): plain on any http host.
    const dev = await collectAt('http://sync.shop.example', insecure);
    expect(setCookie(dev, HOST_NAME)).toBeUndefined();
    expect(setCookie(dev)?.attributes).not.toContain('Secure');
  });

  it('a cookie tossed in beside the real one (the name twice) recovers nothing, rotates and expires nothing', async () => {
    const attacker = await device();
    const victim = await device();
    const before = await h.snapshot();
    // Written by script on a sibling subdomain for the parent domain: the browser sends it first.
    const tossed = await recover({ cookie: `${NAME}=${attacker.secret}; ${NAME}=${victim.secret}` });
    expect(tossed.status).toBe(204);
    expect(tossed.headers.getSetCookie()).toEqual([]);
    expect(await h.snapshot()).toEqual(before);
    // Nor does a collect bind (and so overwrite) anything while the name comes twice.
    const written = await collect(victim, { cookie: `${NAME}=${attacker.secret}; ${NAME}=${victim.secret}` });
    expect(written.status).toBe(202);
    expect(written.headers.getSetCookie()).toEqual([]);
    // On https the cookie read is __Host-cairn_sid: a plain cairn_sid beside it is not even looked at.
    const https = await at(
      `https://sync.shop.example/v1/recover?site=${SITE}`,
      { site: SITE },
      { cookie: `${NAME}=${attacker.secret}; ${HOST_NAME}=${victim.secret}` },
    );
    expect(https.status).toBe(200);
    expect(((await https.json()) as RecoverResponse).deviceId).toBe(victim.dev);
    expect(setCookie(https, HOST_NAME)?.attributes).toContain('Secure');
  });

  it('with a domain configured, only a sync host within it gets the cookie', async () => {
    const put = (serverCookie: object) =>
      h.req('PUT', '/v1/config', { body: config({ identity: { serverCookie } }), headers: admin });
    expect((await put({ domain: '.shop.example' })).status).toBe(200);
    try {
      expect(setCookie(await collectAt('https://sync.shop.example'), HOST_NAME)).toBeDefined();
      expect(setCookie(await collectAt('https://shop.example'), HOST_NAME)).toBeDefined();
      const stranger = await collectAt('https://sync.elsewhere.example');
      expect(stranger.status).toBe(202);
      expect(stranger.headers.getSetCookie()).toEqual([]);
    } finally {
      expect((await put({})).status).toBe(200);
    }
  });

  it('of two tabs recovering with one cookie, the one that lost gets a 204 that leaves the cookie alone', async () => {
    const d = await device();
    const [first, second] = [await recover(cookieHeader(d.secret)), await recover(cookieHeader(d.secret))];
    expect(first.status).toBe(200);
    expect(setCookie(first)).toBeDefined();
    expect(second.status).toBe(204);
    // An expiry here would delete the cookie the first tab just got, if it arrived last.
    expect(second.headers.getSetCookie()).toEqual([]);
  });

  it('a recovery keeps the binding time: the new cookie lasts what is left of the 13 months, then nothing', async () => {
    const d = await device();
    const recoverOnDay = async (days: number, secret: string) => {
      const later = await harness(db, { now: () => clock + days * DAY, configTtlMs: 0 });
      return later.req('POST', `/v1/recover?site=${SITE}`, {
        body: { site: SITE },
        headers: { origin: ORIGIN, ...cookieHeader(secret) },
      });
    };
    const r100 = await recoverOnDay(100, d.secret);
    expect(r100.status).toBe(200);
    const s100 = setCookie(r100)!;
    expect(s100.attributes).toContain(`Max-Age=${(396 - 100) * 86_400}`);
    const r200 = await recoverOnDay(200, s100.value);
    expect(r200.status).toBe(200);
    const s200 = setCookie(r200)!;
    expect(s200.attributes).toContain(`Max-Age=${(396 - 200) * 86_400}`);
    // 13 months after the binding (the device used since, so its token is alive): over.
    expect((await recoverOnDay(397, s200.value)).status).toBe(204);
  });

  it('is never set with the visitor refusal, nor on a site that did not turn it on', async () => {
    const refused = await collect({ dev: id(), token: clientToken() }, { cookie: 'cairn_consent=denied' });
    expect(refused.status).toBe(202);
    expect(setCookie(refused)).toBeUndefined();
    const other = await h.req('POST', '/v1/collect', {
      body: { site: 'other-site', deviceId: id(), events: [pageEvent()] },
      headers: bearer(clientToken()),
    });
    expect(other.status).toBe(202);
    expect(setCookie(other)).toBeUndefined();
  });

  it('recovers the device with a fresh token, its history and first touch, and rotates the secret', async () => {
    const d = await device();
    const r = await recover(cookieHeader(d.secret));
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-credentials')).toBe('true');
    const body = (await r.json()) as RecoverResponse;
    expect(body.deviceId).toBe(d.dev);
    expect(body.deviceToken).not.toBe(d.token);
    expect(body.profile.products.map((p) => p.id)).toContain('SKU-EARLY');
    expect(body.profile.firstTouch?.at).toBe(clock - 1000);
    // Rotated: the new secret is set, and the fresh token writes for the device (the browser's
    // next collect carries the new secret: nothing set again); the old token no longer writes.
    const next = setCookie(r)!.value;
    expect(next).not.toBe(d.secret);
    const written = await collect({ dev: d.dev, token: body.deviceToken }, cookieHeader(next));
    expect(written.status).toBe(202);
    expect(setCookie(written)).toBeUndefined();
    expect((await collect(d)).status).toBe(401);
    // The old secret (a copy taken before) recovers nothing.
    expect((await recover(cookieHeader(d.secret))).status).toBe(204);
    expect((await recover(cookieHeader(next))).status).toBe(200);
  });

  it('without a cookie, or with a forged one, answers 204 and writes nothing', async () => {
    const d = await device();
    const before = await h.snapshot();
    for (const headers of [
      {},
      cookieHeader(d.dev), // the device id, which script and the shop's backend can read
      cookieHeader(d.token), // the old device token
      cookieHeader('A'.repeat(43)), // a secret's shape, never issued
      { cookie: `cairn_id=${d.dev}` },
    ]) {
      const r = await recover(headers);
      expect(r.status).toBe(204);
      expect(await r.text()).toBe('');
    }
    expect(await h.snapshot()).toEqual(before);
  });

  it('a denial (DELETE /v1/server-cookie) expires the cookie and unbinds it', async () => {
    const d = await device();
    const r = await h.req('DELETE', `/v1/server-cookie?site=${SITE}`, {
      headers: { origin: ORIGIN, ...cookieHeader(d.secret) },
    });
    expect(r.status).toBe(204);
    const set = setCookie(r)!;
    expect(set.value).toBe('');
    expect(set.attributes).toContain('Max-Age=0');
    expect(set.attributes.some((a) => a.startsWith('Domain='))).toBe(false);
    expect((await recover(cookieHeader(d.secret))).status).toBe(204);
  });

  it('a logout (revoked token) recovers nothing', async () => {
    const d = await device();
    const out = await h.req('POST', '/v1/logout', { body: { site: SITE, deviceId: d.dev }, headers: bearer(d.token) });
    expect(out.status).toBe(200);
    const r = await recover(cookieHeader(d.secret));
    expect(r.status).toBe(204);
    expect(r.headers.getSetCookie()).toEqual([]);
  });

  it('an erasure invalidates the binding of every device of the user', async () => {
    const d = await device();
    const userId = `u-${id()}`;
    const linked = await h.req('POST', '/v1/identify', {
      body: {
        site: SITE,
        deviceId: d.dev,
        userId,
        token: signIdentity({ userId, secret: SECRET, site: SITE, deviceId: d.dev, now: clock }),
      },
      headers: bearer(d.token),
    });
    expect(linked.status).toBe(200);
    expect((await h.req('DELETE', `/v1/users/${userId}?site=${SITE}`, { headers: admin })).status).toBe(200);
    expect((await recover(cookieHeader(d.secret))).status).toBe(204);
    const rows = (await h.snapshot()).server_cookies as { device_id: string }[];
    expect(rows.some((row) => row.device_id === d.dev)).toBe(false);
  });

  it('an identified device comes back identified', async () => {
    const d = await device();
    const userId = `u-${id()}`;
    await h.req('POST', '/v1/identify', {
      body: {
        site: SITE,
        deviceId: d.dev,
        userId,
        token: signIdentity({ userId, secret: SECRET, site: SITE, deviceId: d.dev, now: clock }),
      },
      headers: bearer(d.token),
    });
    const r = await recover(cookieHeader(d.secret));
    expect(((await r.json()) as { profile: Profile }).profile.userId).toBe(userId);
  });
});
