// A login token links one device, once, and only for a short while: replaying one (another device,
// a token valid for years, a token made for another device) links nothing and reads nothing.
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentifyResponse, Profile } from '@cairn/schema';
import { signIdentity, verifyIdentity } from '../src/identity/identity-token.js';
import { runCli, startCli } from './helpers/cli.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { bearer, clientToken, harness, id, pageEvent, SECRET, SITE, type Harness } from './helpers/http.js';

const NOW = 1_800_000_000_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** A token signed as any backend could: the payload as given, HMAC'd with the secret. */
const signRaw = (payload: Record<string, unknown>) => {
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${p}.${createHmac('sha256', SECRET).update(p).digest('base64url')}`;
};

describe('verifyIdentity: lifetime and device', () => {
  const opts = { secret: SECRET, site: SITE, userId: 'carol', now: NOW };

  it('refuses an exp more than an hour ahead (too_long), by default and as configured', () => {
    const at = (ttlSeconds: number) =>
      signIdentity({ userId: 'carol', secret: SECRET, site: SITE, ttlSeconds, now: NOW });
    expect(verifyIdentity(at(3600), opts).ok).toBe(true);
    expect(verifyIdentity(at(3601), opts)).toEqual({ ok: false, reason: 'too_long' });
    expect(verifyIdentity(signRaw({ site: SITE, user: 'carol', exp: 1e20 }), opts)).toEqual({
      ok: false,
      reason: 'too_long',
    });
    expect(verifyIdentity(at(7200), { ...opts, maxTtlSeconds: 7200 }).ok).toBe(true);
    expect(verifyIdentity(at(7201), { ...opts, maxTtlSeconds: 7200 })).toEqual({ ok: false, reason: 'too_long' });
  });

  it('a token naming a device is good for that device only; a malformed device claim is malformed', () => {
    const dev = id();
    const token = signIdentity({ userId: 'carol', secret: SECRET, site: SITE, now: NOW, deviceId: dev });
    const [payload] = token.split('.') as [string];
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({ device: dev });
    expect(verifyIdentity(token, { ...opts, deviceId: dev })).toMatchObject({ ok: true, claims: { device: dev } });
    expect(verifyIdentity(token, { ...opts, deviceId: id() })).toEqual({ ok: false, reason: 'wrong_device' });
    expect(verifyIdentity(signRaw({ site: SITE, user: 'carol', exp: NOW / 1000 + 60, device: 7 }), opts)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(() => signIdentity({ userId: 'carol', secret: SECRET, site: SITE, deviceId: '' })).toThrow(TypeError);
  });
});

describe.each(makeStores())('login tokens over HTTP on $name', (db: TestDb) => {
  let h: Harness;
  // Near the real time: a device's daily last-use record (made at the real time) stays out of the snapshots.
  let clock = Math.floor(Date.now() / 1000) * 1000;
  beforeAll(async () => {
    h = await harness(db, { now: () => clock });
  });
  afterAll(() => db.cleanup());

  const sign = (userId: string, over: { ttlSeconds?: number; deviceId?: string } = {}) =>
    signIdentity({ userId, secret: SECRET, site: SITE, now: clock, ...over });
  const identify = (app: Harness, deviceId: string, userId: string, token: string, deviceToken: string) =>
    app.req('POST', '/v1/identify', {
      body: { site: SITE, deviceId, userId, token, device: 'desktop' },
      headers: bearer(deviceToken),
    });
  /** A device with some history of its own, as the SDK makes one. */
  async function device(product = 'SKU-OWN'): Promise<{ dev: string; token: string }> {
    const dev = id();
    const token = clientToken();
    const r = await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: dev, events: [pageEvent({ product, at: clock - 1000 })] },
      headers: bearer(token),
    });
    expect(r.status).toBe(202);
    return { dev, token };
  }
  const errorOf = async (r: Response) => (await r.json()) as { error: string; message: string };
  const profileOf = async (d: { dev: string; token: string }) =>
    h.req('GET', `/v1/profile?site=${SITE}&deviceId=${d.dev}`, { headers: bearer(d.token) });

  it("one of carol's login tokens links one device: three attacker devices presenting it get 401 and none of her history", async () => {
    const carol = `carol-${id()}`;
    const hers = await device('CAROL-SECRET-SKU');
    const login = sign(carol);
    expect((await identify(h, hers.dev, carol, login, hers.token)).status).toBe(200);

    for (let i = 0; i < 3; i++) {
      const attacker = await device('ATTACKER-SKU');
      const before = await h.snapshot();
      const res = await identify(h, attacker.dev, carol, login, attacker.token);
      expect(res.status).toBe(401);
      const body = await errorOf(res);
      expect(body.error).toBe('invalid_identity');
      expect(body.message).toMatch(/another device/);
      expect(JSON.stringify(body)).not.toContain('CAROL-SECRET-SKU');
      // Nothing linked, nothing recorded.
      expect(await h.snapshot()).toEqual(before);
      const own = (await (await profileOf(attacker)).json()) as Profile;
      expect(own.userId).toBeNull();
      expect(JSON.stringify(own)).not.toContain('CAROL-SECRET-SKU');
    }
    // A device never seen, with a token of its own: not even adopted.
    const before = await h.snapshot();
    expect((await identify(h, id(), carol, login, clientToken())).status).toBe(401);
    expect(await h.snapshot()).toEqual(before);
  });

  it('a login respelled (the same MAC bytes in another base64url spelling) links no second device', async () => {
    const erin = `erin-${id()}`;
    const hers = await device('ERIN-SECRET-SKU');
    const login = sign(erin);
    expect((await identify(h, hers.dev, erin, login, hers.token)).status).toBe(200);
    // The MAC's last character carries 2 unused bits: three other characters decode to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(login.at(-1) as string);
    const respelled = [1, 2, 3].map((bits) => login.slice(0, -1) + alphabet[(last & ~3) | ((last + bits) & 3)]);
    const mac = (t: string) => Buffer.from(t.split('.')[1] as string, 'base64url').toString('hex');
    for (const token of respelled) {
      expect(token).not.toBe(login);
      expect(mac(token)).toBe(mac(login));
      const attacker = await device('ATTACKER-SKU');
      const res = await identify(h, attacker.dev, erin, token, attacker.token);
      expect(res.status).toBe(401);
      expect(JSON.stringify(await res.json())).not.toContain('ERIN-SECRET-SKU');
    }
  });

  it('the same device presenting its login again is the usual no-op (200)', async () => {
    const user = `dan-${id()}`;
    const d = await device();
    const login = sign(user);
    const first = await identify(h, d.dev, user, login, d.token);
    expect(first.status).toBe(200);
    const before = await h.snapshot();
    const again = await identify(h, d.dev, user, login, d.token);
    expect(again.status).toBe(200);
    expect(((await again.json()) as IdentifyResponse).profile.userId).toBe(user);
    expect(await h.snapshot()).toEqual(before);
  });

  it('records a used login by site and SHA-256 of the token, never the token itself', async () => {
    const user = `erin-${id()}`;
    const d = await device();
    const login = sign(user);
    expect((await identify(h, d.dev, user, login, d.token)).status).toBe(200);
    const rows = (await h.snapshot()).used_logins as Record<string, unknown>[];
    // PostgreSQL's bigint comes back as text through the test's own connection.
    expect(rows.map((r) => ({ ...r, exp: Number(r.exp) }))).toContainEqual({
      site: SITE,
      token_hash: sha256(login),
      device_id: d.dev,
      exp: clock / 1000 + 600,
    });
    expect(JSON.stringify(rows)).not.toContain(login);
  });

  it('refuses an exp more than an hour ahead (exp 1e20 included), and links nothing', async () => {
    const user = `fay-${id()}`;
    const d = await device();
    const before = await h.snapshot();
    for (const token of [
      sign(user, { ttlSeconds: 3601 }),
      signRaw({ site: SITE, user, exp: 1e20 }),
      signRaw({ site: SITE, user, exp: clock / 1000 + 86_400 * 365 }),
    ]) {
      const res = await identify(h, d.dev, user, token, d.token);
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toMatchObject({ error: 'invalid_identity', message: expect.stringMatching(/exp/) });
    }
    expect(await h.snapshot()).toEqual(before);
    expect((await identify(h, d.dev, user, sign(user, { ttlSeconds: 3600 }), d.token)).status).toBe(200);
  });

  it('the longest lifetime is the app option maxLoginTtlSeconds', async () => {
    const h2 = await harness(db, { now: () => clock, maxLoginTtlSeconds: 2 * 3600 });
    const user = `gus-${id()}`;
    const d = await device();
    expect((await identify(h2, d.dev, user, sign(user, { ttlSeconds: 2 * 3600 + 1 }), d.token)).status).toBe(401);
    expect((await identify(h2, d.dev, user, sign(user, { ttlSeconds: 2 * 3600 }), d.token)).status).toBe(200);
  });

  it('a token naming a device links that device only: another gets 401 with the reason, and it stays usable', async () => {
    const user = `hal-${id()}`;
    const mine = await device();
    const other = await device();
    const login = sign(user, { deviceId: mine.dev });
    const res = await identify(h, other.dev, user, login, other.token);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({
      error: 'invalid_identity',
      message: expect.stringMatching(/for another device/),
    });
    expect((await identify(h, mine.dev, user, login, mine.token)).status).toBe(200);
  });

  it('two devices racing with one login through two store instances: exactly one wins', async () => {
    // A second app on its own Store instance over the same database, as a second server would be.
    const h2 = await harness(db, { now: () => clock });
    for (let round = 0; round < 5; round++) {
      const user = `race-${id()}`;
      const [a, b] = [await device(), await device()];
      const login = sign(user);
      const [ra, rb] = await Promise.all([
        identify(h, a.dev, user, login, a.token),
        identify(h2, b.dev, user, login, b.token),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([200, 401]);
      const devices = (await h.snapshot()).devices as { device_id: string; user_id: string | null }[];
      expect(devices.filter((d) => d.user_id === user)).toHaveLength(1);
    }
  });

  it('used logins are pruned once expired, and an expired one still links nothing', async () => {
    const user = `ivy-${id()}`;
    const d = await device();
    const login = sign(user, { ttlSeconds: 60 });
    expect((await identify(h, d.dev, user, login, d.token)).status).toBe(200);
    const hashes = async () => ((await h.snapshot()).used_logins as { token_hash: string }[]).map((r) => r.token_hash);
    expect(await hashes()).toContain(sha256(login));
    // Well past its expiry (and the margin kept for clock skew), the next login prunes it.
    clock += 3600_000;
    const later = await device();
    const jay = `jay-${id()}`;
    expect((await identify(h, later.dev, jay, sign(jay), later.token)).status).toBe(200);
    expect(await hashes()).not.toContain(sha256(login));
    const replayer = await device();
    expect((await identify(h, replayer.dev, user, login, replayer.token)).status).toBe(401);
  });
});

describe('cairn-server: the longest login lifetime, and signing for a device', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('--max-login-ttl must be a whole number of seconds from 1', () => {
    for (const bad of ['0', 'abc', '-5', '1.5']) {
      const r = runCli(['--max-login-ttl', bad]);
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toMatch(/--max-login-ttl/);
    }
  });

  it('sign --device names the device in the token', () => {
    const r = runCli(['sign', '--user', 'carol', '--site', SITE, '--device', 'device-12345', '--secret', SECRET]);
    expect(r.status).toBe(0);
    expect(verifyIdentity(r.stdout.trim(), { secret: SECRET, site: SITE, deviceId: 'device-12345' })).toMatchObject({
      ok: true,
      claims: { user: 'carol', device: 'device-12345' },
    });
  });

  it('CAIRN_MAX_LOGIN_TTL sets the longest lifetime the server accepts', async () => {
    const s = await startCli(['--db', db.options.sqlitePath as string, '--rate-ip', '0'], {
      CAIRN_IDENTITY_SECRET: SECRET,
      CAIRN_MAX_LOGIN_TTL: '7200',
    });
    try {
      const identify = (ttlSeconds: number) => {
        const deviceId = id();
        const token = signIdentity({ userId: 'carol', secret: SECRET, site: SITE, ttlSeconds, deviceId });
        return fetch(`${s.url}/v1/identify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${clientToken()}` },
          body: JSON.stringify({ site: SITE, deviceId, userId: 'carol', token }),
        });
      };
      expect((await identify(7200 + 60)).status).toBe(401);
      expect((await identify(7200 - 60)).status).toBe(200);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  });
});
