import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/rate-limit.js';
import { sqliteDb } from './helpers/db.js';
import { bearer, clientToken, harness, id, pageEvent, SITE, type Harness } from './helpers/http.js';

describe('token bucket', () => {
  it('allows a burst, then refills at the rate', () => {
    let t = 0;
    const rl = createRateLimiter({ burst: 3, perSecond: 2 }, () => t);
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([0, 0, 0]);
    expect(rl.take('a')).toBe(1);
    expect(rl.take('b')).toBe(0); // keys are independent
    t += 500; // one token back at 2/s
    expect(rl.take('a')).toBe(0);
    expect(rl.take('a')).toBeGreaterThanOrEqual(1);
    t += 60_000; // never more than the burst
    expect([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([0, 0, 0, 1]);
  });

  it('tells how long to wait when the rate is slow', () => {
    const rl = createRateLimiter({ burst: 1, perSecond: 0.1 }, () => 0);
    rl.take('k');
    expect(rl.take('k')).toBe(10);
  });
});

describe('rate limits over HTTP', () => {
  const db = sqliteDb();
  let h: Harness;
  let t = 1_000_000;
  beforeAll(async () => {
    h = await harness(db, {
      now: () => t,
      trustProxy: true,
      rateLimit: { device: { burst: 2, perSecond: 1 }, ip: { burst: 5, perSecond: 1 } },
    });
  });
  afterAll(() => db.cleanup());

  // Each device's own token, as the SDK makes one with its id.
  const tokens = new Map<string, string>();
  const tokenOf = (deviceId: string): string => {
    if (!tokens.has(deviceId)) tokens.set(deviceId, clientToken());
    return tokens.get(deviceId) as string;
  };
  const collect = (deviceId: string, ip: string) =>
    h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId, events: [pageEvent()] },
      headers: { 'x-forwarded-for': ip, ...bearer(tokenOf(deviceId)) },
    });

  it('limits per device: 429 with Retry-After, nothing written, other devices unaffected', async () => {
    const dev = id();
    expect((await collect(dev, '10.0.0.1')).status).toBe(202);
    expect((await collect(dev, '10.0.0.1')).status).toBe(202);
    const before = await h.snapshot();
    const res = await collect(dev, '10.0.0.1');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await h.snapshot()).toEqual(before);
    expect((await collect(id(), '10.0.0.1')).status).toBe(202);
    t += 1000;
    expect((await collect(dev, '10.0.0.1')).status).toBe(202);
  });

  it('limits per IP across devices', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await collect(id(), '10.0.0.2')).status);
    expect(codes).toEqual([202, 202, 202, 202, 202, 429]);
    expect((await collect(id(), '10.0.0.3')).status).toBe(202);
    const metrics = await (await h.req('GET', '/metrics')).text();
    expect(metrics).toMatch(/cairn_rate_limited_total\{scope="ip"\} 1/);
    expect(metrics).toMatch(/cairn_rate_limited_total\{scope="device"\} 1/);
  });

  it("a stranger's refused requests use none of a device's allowance: its owner is not blocked", async () => {
    const dev = id();
    expect((await collect(dev, '10.0.1.1')).status).toBe(202);
    const token = tokenOf(dev);
    t += 10_000;
    const profile = (auth: string, ip: string) =>
      h.req('GET', `/v1/profile?site=${SITE}&deviceId=${dev}`, {
        headers: { authorization: `Bearer ${auth}`, 'x-forwarded-for': ip },
      });
    const strangers = [];
    for (let i = 0; i < 4; i++)
      strangers.push((await profile('not-the-token-of-this-device-000', `10.0.2.${i}`)).status);
    expect(strangers).toEqual([401, 401, 401, 401]);
    expect((await profile(token, '10.0.1.1')).status).toBe(200);
  });

  it('behind the proxy, the address it appended counts: entries the client wrote before it change nothing', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await collect(id(), `192.168.7.${i}, 10.0.0.4`)).status);
    expect(codes).toEqual([202, 202, 202, 202, 202, 429]);
  });
});
