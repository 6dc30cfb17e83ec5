import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../context.js';
import { HttpError } from '../../errors.js';
import { createMetrics } from '../../metrics.js';
import { createRateLimiter } from '../../rate-limit.js';
import { ipRateLimit } from './index.js';

function app(trustProxy = false) {
  const metrics = createMetrics();
  const a = new Hono<Env>();
  a.onError((err, c) => (err instanceof HttpError ? c.json(err.body(), err.status, err.headers) : c.text('boom', 500)));
  // A clock that never moves: no refill, so the burst is all there is.
  a.use(
    '*',
    ipRateLimit({
      limiter: createRateLimiter({ perSecond: 1, burst: 2 }, () => 0),
      metrics,
      trustProxy,
      originKnown: (origin) => origin === 'https://shop.example',
    }),
  );
  a.all('/x', (c) => c.text('ok'));
  return { a, metrics };
}

describe('IP rate limit middleware', () => {
  it('allows the burst, then answers 429 with Retry-After and counts it', async () => {
    const { a, metrics } = app();
    expect((await a.request('/x')).status).toBe(200);
    expect((await a.request('/x')).status).toBe(200);
    const refused = await a.request('/x');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(metrics.render()).toMatch(/cairn_rate_limited_total\{scope="ip"\} 1/);
  });

  it("lets a known origin's browser read the 429 (CORS), and only a known origin", async () => {
    const { a } = app();
    for (let i = 0; i < 2; i++) await a.request('/x');
    const known = await a.request('/x', { headers: { origin: 'https://shop.example' } });
    expect(known.status).toBe(429);
    expect(known.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(known.headers.get('access-control-expose-headers')).toContain('Retry-After');
    // Collect, recover and the server cookie's DELETE are credentialed: without this, the browser hides the 429.
    expect(known.headers.get('access-control-allow-credentials')).toBe('true');
    const stranger = await a.request('/x', { headers: { origin: 'https://evil.example' } });
    expect(stranger.status).toBe(429);
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('does not count preflights', async () => {
    const { a } = app();
    for (let i = 0; i < 5; i++) expect((await a.request('/x', { method: 'OPTIONS' })).status).toBe(200);
    expect((await a.request('/x')).status).toBe(200);
  });

  it('behind a trusted proxy, keys on the last X-Forwarded-For entry, not on what the client wrote before it', async () => {
    const { a } = app(true);
    const from = (chain: string) => a.request('/x', { headers: { 'x-forwarded-for': chain } });
    expect((await from('1.1.1.1, 10.0.0.1')).status).toBe(200);
    expect((await from('2.2.2.2, 10.0.0.1')).status).toBe(200);
    expect((await from('3.3.3.3, 10.0.0.1')).status).toBe(429);
    expect((await from('10.0.0.2')).status).toBe(200);
  });
});
