// Every write about a device needs that device's token: a device id alone lets nobody write to it,
// use up its rate allowance, or adopt it before its owner. Collect, opt-ins and identify alike.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIdentity } from '../src/identity/identity-token.js';
import { makeStores, type TestDb } from './helpers/db.js';
import { bearer, clientToken, harness, id, pageEvent, SECRET, SITE, type Harness } from './helpers/http.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe.each(makeStores())('proof of the device on every write, on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    // A small per-device allowance, to see who uses it up.
    h = await harness(db, { rateLimit: { ip: false, device: { burst: 3, perSecond: 0.001 } } });
  });
  afterAll(() => db.cleanup());

  const collect = (deviceId: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
    h.req('POST', '/v1/collect', { body: { site: SITE, deviceId, events: [pageEvent()], ...extra }, headers });
  /** As navigator.sendBeacon posts: text/plain, the token (if any) in the body. */
  const beacon = (deviceId: string, deviceToken?: string) =>
    h.req('POST', '/v1/collect', {
      raw: JSON.stringify({ site: SITE, deviceId, events: [pageEvent()], ...(deviceToken ? { deviceToken } : {}) }),
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
    });
  const optin = (deviceId: string, headers: Record<string, string> = {}) =>
    h.req('POST', '/v1/optins', {
      body: { id: id(), site: SITE, deviceId, email: 'someone@example.com', consentText: 'Yes, email me', at: 1 },
      headers,
    });
  const identify = (deviceId: string, headers: Record<string, string> = {}) => {
    const userId = `u-${id()}`;
    return h.req('POST', '/v1/identify', {
      body: { site: SITE, deviceId, userId, token: signIdentity({ userId, secret: SECRET, site: SITE, deviceId }) },
      headers,
    });
  };
  /** An anonymous device, as the SDK makes one (its first collect counts once against its allowance). */
  async function anonymous(): Promise<{ dev: string; token: string }> {
    const dev = id();
    const token = clientToken();
    expect((await collect(dev, bearer(token))).status).toBe(202);
    return { dev, token };
  }

  it('a token-less collect, opt-in or identify for an existing anonymous device is refused (401), and writes nothing', async () => {
    const victim = await anonymous();
    const before = await h.snapshot();
    for (const res of [
      await collect(victim.dev),
      await beacon(victim.dev),
      await optin(victim.dev),
      await identify(victim.dev),
      await collect(victim.dev, bearer(clientToken())),
      await beacon(victim.dev, clientToken()),
      await optin(victim.dev, bearer(clientToken())),
    ]) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('unauthorized');
    }
    expect(await h.snapshot()).toEqual(before);
  });

  it("refused requests use none of the device's rate allowance: its owner still has all of it", async () => {
    const victim = await anonymous();
    for (let i = 0; i < 10; i++) {
      expect((await collect(victim.dev)).status).toBe(401);
      expect((await optin(victim.dev)).status).toBe(401);
      expect((await collect(victim.dev, bearer(clientToken()))).status).toBe(401);
    }
    // Burst 3, one used by the first collect: two more, then the limit.
    expect((await collect(victim.dev, bearer(victim.token))).status).toBe(202);
    expect((await optin(victim.dev, bearer(victim.token))).status).toBe(201);
    expect((await collect(victim.dev, bearer(victim.token))).status).toBe(429);
  });

  it('a device never seen is adopted only with its own token of 32+ characters: none, or a shorter one, adopts nothing', async () => {
    const before = await h.snapshot();
    for (const send of [collect, optin, identify]) {
      const dev = id();
      expect((await send(dev)).status, send.name).toBe(401);
      const short = await send(dev, bearer('x'.repeat(31)));
      expect(short.status, send.name).toBe(401);
      expect(((await short.json()) as { message: string }).message).toMatch(/32 characters/);
    }
    expect((await beacon(id())).status).toBe(401);
    expect(await h.snapshot()).toEqual(before);
  });

  it('an opt-in for a device never seen adopts it with the token it presents; nobody else can file consent for it afterwards', async () => {
    const dev = id();
    const token = clientToken();
    expect((await optin(dev, bearer(token))).status).toBe(201);
    const device = ((await h.snapshot()).devices as Record<string, unknown>[]).find((d) => d.device_id === dev);
    expect(device?.token_hash).toBe(sha256(token));
    const before = await h.snapshot();
    expect((await optin(dev)).status).toBe(401);
    expect((await optin(dev, bearer(clientToken()))).status).toBe(401);
    expect(await h.snapshot()).toEqual(before);
    // Its owner goes on with the same token.
    expect((await collect(dev, bearer(token))).status).toBe(202);
  });

  it('collect, opt-in and identify are accepted with the device token (Bearer, or in the body of a beacon)', async () => {
    const d = await anonymous();
    const h2 = await harness(db, { rateLimit: { ip: false, device: false } });
    const send = (path: string, body: Record<string, unknown>, headers: Record<string, string>) =>
      h2.req('POST', path, { body: { site: SITE, deviceId: d.dev, ...body }, headers });
    expect((await send('/v1/collect', { events: [pageEvent()] }, bearer(d.token))).status).toBe(202);
    expect((await send('/v1/collect', { events: [pageEvent()], deviceToken: d.token }, {})).status).toBe(202);
    expect(
      (await send('/v1/optins', { id: id(), email: 'a@example.com', consentText: 'Yes', at: 1 }, bearer(d.token)))
        .status,
    ).toBe(201);
    const userId = `u-${id()}`;
    const token = signIdentity({ userId, secret: SECRET, site: SITE, deviceId: d.dev });
    expect((await send('/v1/identify', { userId, token }, bearer(d.token))).status).toBe(200);
  });
});
