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

/** The `name=value` of the server cookie a response sets, and its attributes. */
function setCookie(r: Response): { value: string; attributes: string[] } | undefined {
  const line = r.headers.getSetCookie().find((l) => l.startsWith(`${NAME}=`));
  if (!line) return undefined;
  const [first = '', ...attributes] = line.split(/;\s*/);
  return { value: first.slice(NAME.length + 1), attributes };
}
const cookieHeader = (value: string) => ({ cookie: `other=1; ${NAME}=${value}` });

describe.each(makeStores())('server-set cookie on $name', (db: TestDb) => {
  let h: Harness;
  let plain: Harness;
  const clock = 1_700_000_000_000;
  beforeAll(async () => {
    h = await harness(db, { now: () => clock, configTtlMs: 0 });
    const put = await h.req('PUT', '/v1/config', {
      body: config({ identity: { serverCookie: { domain: '.shop.example' } } }),
      headers: admin,
    });
    expect(put.status).toBe(200);
    plain = await harness(db, { now: () => clock, configTtlMs: 0, trustProxy: true });
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

  it('rides on the collect answer: HttpOnly, SameSite=Lax, 13 months, on the configured domain', async () => {
    const d = { dev: id(), token: clientToken() };
    const r = await collect(d);
    expect(r.status).toBe(202);
    const set = setCookie(r)!;
    expect(set.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(set.value).not.toContain(d.dev);
    expect(set.attributes).toEqual(['Domain=.shop.example', 'Path=/', 'Max-Age=34214400', 'HttpOnly', 'SameSite=Lax']);
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

  it('is Secure on https, and behind a trusted proxy that says https', async () => {
    const d = { dev: id(), token: clientToken() };
    const https = await h.app.request('https://sync.shop.example/v1/collect', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(d.token) },
      body: JSON.stringify({ site: SITE, deviceId: d.dev, events: [pageEvent()] }),
    });
    expect(setCookie(https)?.attributes).toContain('Secure');
    const proxied = await collect(
      { dev: id(), token: clientToken() },
      { 'x-forwarded-proto': 'https' },
      undefined,
      plain,
    );
    expect(setCookie(proxied)?.attributes).toContain('Secure');
    // Without trustProxy the header is anyone's to send: not believed.
    const spoofed = await collect({ dev: id(), token: clientToken() }, { 'x-forwarded-proto': 'https' });
    expect(setCookie(spoofed)?.attributes).not.toContain('Secure');
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
    expect(set.attributes).toContain('Domain=.shop.example');
    expect((await recover(cookieHeader(d.secret))).status).toBe(204);
  });

  it('a logout (revoked token) recovers nothing', async () => {
    const d = await device();
    const out = await h.req('POST', '/v1/logout', { body: { site: SITE, deviceId: d.dev }, headers: bearer(d.token) });
    expect(out.status).toBe(200);
    const r = await recover(cookieHeader(d.secret));
    expect(r.status).toBe(204);
    expect(setCookie(r)?.attributes).toContain('Max-Age=0');
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
