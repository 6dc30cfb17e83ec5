import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { IdentifyResponse } from '@cairn/schema';
import { signIdentity, verifyIdentity } from '../src/identity/identity-token.js';
import { makeStores, type TestDb } from './helpers/db.js';
import { bearer, harness, id, pageEvent, SECRET, SITE, type Harness } from './helpers/http.js';

const NOW = 1_800_000_000_000;

describe('signIdentity / verifyIdentity', () => {
  const good = signIdentity({ userId: 'alice', secret: SECRET, site: SITE, ttlSeconds: 600, now: NOW });
  const opts = { secret: SECRET, site: SITE, userId: 'alice', now: NOW };

  it('signs base64url(payload).base64url(hmac) covering site, user, expiry and a random nonce', () => {
    const [payload, sig] = good.split('.');
    const claims = { site: SITE, user: 'alice', exp: NOW / 1000 + 600, nonce: expect.stringMatching(/^[\w-]{12}$/) };
    expect(JSON.parse(Buffer.from(payload as string, 'base64url').toString())).toEqual(claims);
    expect(Buffer.from(sig as string, 'base64url')).toHaveLength(32);
    expect(verifyIdentity(good, opts)).toEqual({ ok: true, claims });
    // Signed again in the same second: another token (a login token links one device).
    expect(signIdentity({ userId: 'alice', secret: SECRET, site: SITE, ttlSeconds: 600, now: NOW })).not.toBe(good);
  });

  it('refuses forged, tampered, expired, wrong-site and wrong-user tokens', () => {
    const [payload, sig] = good.split('.') as [string, string];
    const forged = signIdentity({ userId: 'alice', secret: 'another-secret', site: SITE, now: NOW });
    const otherPayload = Buffer.from(JSON.stringify({ site: SITE, user: 'mallory', exp: NOW / 1000 + 600 })).toString(
      'base64url',
    );
    const flipped = sig.slice(0, -2) + (sig.at(-2) === 'A' ? 'B' : 'A') + sig.at(-1);
    expect(verifyIdentity(forged, opts)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyIdentity(`${otherPayload}.${sig}`, { ...opts, userId: 'mallory' })).toEqual({
      ok: false,
      reason: 'signature',
    });
    expect(verifyIdentity(`${payload}.${flipped}`, opts)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyIdentity(good, { ...opts, now: NOW + 600_000 })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyIdentity(good, { ...opts, now: NOW + 599_000 }).ok).toBe(true);
    expect(verifyIdentity(good, { ...opts, site: 'other' })).toEqual({ ok: false, reason: 'wrong_site' });
    expect(verifyIdentity(good, { ...opts, userId: 'bob' })).toEqual({ ok: false, reason: 'wrong_user' });
    for (const bad of [
      '',
      '.',
      'abc',
      `${payload}.`,
      `${payload}.${sig}.x`,
      `${payload}.${sig}=`,
      `${payload}!.${sig}`,
    ]) {
      expect(verifyIdentity(bad, opts).ok).toBe(false);
    }
  });

  it('never throws and never accepts arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(verifyIdentity(s, opts).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses to sign without a secret', () => {
    expect(() => signIdentity({ userId: 'a', secret: '', site: SITE })).toThrow(TypeError);
  });
});

describe.each(makeStores())('POST /v1/identify on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db, { now: () => NOW });
  });
  afterAll(() => db.cleanup());

  // A login token links one device: each device logs in with its own (the backend names the device).
  const sign = (userId: string, over: { site?: string; now?: number; secret?: string; deviceId?: string } = {}) =>
    signIdentity({
      userId,
      secret: over.secret ?? SECRET,
      site: over.site ?? SITE,
      now: over.now ?? NOW,
      ...(over.deviceId ? { deviceId: over.deviceId } : {}),
    });
  const identify = (deviceId: string, userId: string, token: string, headers: Record<string, string> = {}) =>
    h.req('POST', '/v1/identify', { body: { site: SITE, deviceId, userId, token, device: 'desktop' }, headers });
  /** A device as the SDK makes one: its id and its own token, adopted at its first collect. */
  async function device(events = [pageEvent()]): Promise<{ dev: string; token: string }> {
    const dev = id();
    const token = `sdk-made-${id()}`;
    const r = await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: dev, events },
      headers: bearer(token),
    });
    expect(r.status).toBe(202);
    return { dev, token };
  }

  it('refuses invalid, expired, forged, wrong-site, wrong-user and tampered tokens, and links nothing', async () => {
    const { dev, token } = await device();
    const good = sign('alice');
    const [payload, sig] = good.split('.') as [string, string];
    const before = await h.snapshot();
    const bad = {
      forged: sign('alice', { secret: 'guessed-secret' }),
      expired: sign('alice', { now: NOW - 601_000 }),
      wrongSite: sign('alice', { site: 'other-shop' }),
      wrongUser: sign('bob'),
      tampered: `${Buffer.from(JSON.stringify({ site: SITE, user: 'alice', exp: NOW / 1000 + 99_999 })).toString('base64url')}.${sig}`,
      garbage: `${payload.slice(1)}.${sig}`,
    };
    for (const [name, t] of Object.entries(bad)) {
      const res = await identify(dev, 'alice', t, bearer(token));
      expect(res.status, name).toBe(401);
      expect(((await res.json()) as { error: string }).error, name).toBe('invalid_identity');
    }
    expect(await h.snapshot()).toEqual(before);
  });

  it("requires an existing device's token, and adopts a device it has never seen with its client's token only", async () => {
    const { dev } = await device();
    const before = await h.snapshot();
    expect((await identify(dev, 'carol', sign('carol', { deviceId: dev }))).status).toBe(401);
    expect((await identify(dev, 'carol', sign('carol', { deviceId: dev }), bearer('wrong'))).status).toBe(401);
    // A device never seen: no token, or one too short to be the client's own, adopts nothing.
    const fresh = id();
    expect((await identify(fresh, 'carol', sign('carol', { deviceId: fresh }))).status).toBe(401);
    expect((await identify(fresh, 'carol', sign('carol', { deviceId: fresh }), bearer('short-token'))).status).toBe(
      401,
    );
    expect(await h.snapshot()).toEqual(before);

    // A device first seen at identify keeps the token its client presents.
    const mine = `sdk-made-${id()}-${id()}`;
    const r2 = await identify(fresh, 'carol', sign('carol', { deviceId: fresh }), bearer(mine));
    expect(r2.status).toBe(200);
    const body = (await r2.json()) as IdentifyResponse;
    expect(body.profile.userId).toBe('carol');
    expect(body.deviceToken).toBeUndefined();
    const p2 = await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${fresh}`, { headers: bearer(mine) });
    expect(((await p2.json()) as { userId: string }).userId).toBe('carol');
  });

  it("merges a phone's history into the desktop's profile once both log in", async () => {
    const user = `alice-${id()}`;
    const phone = await device([
      pageEvent({ product: 'SKU-A', device: 'mobile', at: NOW - 5000 }),
      pageEvent({ product: 'SKU-B', device: 'mobile', at: NOW - 4000 }),
    ]);
    expect((await identify(phone.dev, user, sign(user, { deviceId: phone.dev }), bearer(phone.token))).status).toBe(
      200,
    );
    const desk = await device([pageEvent({ product: 'SKU-C', device: 'desktop', at: NOW - 1000 })]);
    const res = await identify(desk.dev, user, sign(user, { deviceId: desk.dev }), bearer(desk.token));
    expect(res.status).toBe(200);
    const { profile, deviceToken } = (await res.json()) as IdentifyResponse;
    expect(deviceToken).toBeUndefined();
    expect(profile.userId).toBe(user);
    expect(profile.products.map((p) => [p.id, p.device])).toEqual([
      ['SKU-C', 'desktop'],
      ['SKU-B', 'mobile'],
      ['SKU-A', 'mobile'],
    ]);
    // The phone now reads the merged profile too.
    const fromPhone = await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${phone.dev}`, {
      headers: bearer(phone.token),
    });
    expect(((await fromPhone.json()) as IdentifyResponse['profile']).products.map((p) => p.id)).toEqual([
      'SKU-C',
      'SKU-B',
      'SKU-A',
    ]);
  });

  it('identifying the same user again is a no-op', async () => {
    const user = `dan-${id()}`;
    const { dev, token } = await device();
    const login = sign(user);
    const first = await identify(dev, user, login, bearer(token));
    expect(first.status).toBe(200);
    const before = await h.snapshot();
    const again = await identify(dev, user, login, bearer(token));
    expect(again.status).toBe(200);
    expect(((await again.json()) as IdentifyResponse).profile).toEqual(
      ((await first.json()) as IdentifyResponse).profile,
    );
    expect(await h.snapshot()).toEqual(before);
    // A new login of the same user on the same device: still linked once; only the token's use is recorded.
    expect((await identify(dev, user, sign(user), bearer(token))).status).toBe(200);
    const after = await h.snapshot();
    for (const t of Object.keys(before).filter((t) => t !== 'used_logins')) expect(after[t], t).toEqual(before[t]);
    expect(after.used_logins).toHaveLength((before.used_logins as unknown[]).length + 1);
  });

  it("a shared device linked to X answers 409 device_linked to Y, links nothing, and Y never sees X's history", async () => {
    const x = `x-${id()}`;
    const y = `y-${id()}`;
    const shared = await device([pageEvent({ product: 'X-SECRET-SKU' })]);
    expect((await identify(shared.dev, x, sign(x), bearer(shared.token))).status).toBe(200);
    const before = await h.snapshot();
    const res = await identify(shared.dev, y, sign(y), bearer(shared.token));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toBe('device_linked');
    const after = await h.snapshot();
    // Only the audit trail may record the refused attempt; no device, user or event changes.
    for (const t of Object.keys(before).filter((t) => t !== 'links')) expect(after[t], t).toEqual(before[t]);
    expect(JSON.stringify(after.users)).not.toContain(y);

    // The SDK then starts a fresh device and identifies again, with the same login token: the
    // refused attempt did not use it up.
    const retry = await identify(id(), y, sign(y), bearer(`sdk-made-${id()}`));
    expect(retry.status).toBe(200);
    const { profile } = (await retry.json()) as IdentifyResponse;
    expect(profile.userId).toBe(y);
    expect(JSON.stringify(profile)).not.toContain('X-SECRET-SKU');
  });

  it('answers 401 when the server has no identity secret', async () => {
    const h2 = await harness(db, { identitySecret: undefined, now: () => NOW });
    const res = await h2.req('POST', '/v1/identify', {
      body: { site: SITE, deviceId: id(), userId: 'a', token: sign('a') },
    });
    expect(res.status).toBe(401);
  });
});
