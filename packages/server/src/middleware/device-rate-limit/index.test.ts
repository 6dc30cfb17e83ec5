import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../context.js';
import { HttpError } from '../../errors.js';
import { createMetrics } from '../../metrics.js';
import { createRateLimiter, type RateLimiter } from '../../rate-limit.js';
import { deviceRateLimit } from './index.js';

function app(limiter: RateLimiter | null) {
  const metrics = createMetrics();
  const a = new Hono<Env>();
  a.onError((err, c) => (err instanceof HttpError ? c.json(err.body(), err.status, err.headers) : c.text('boom', 500)));
  a.use('*', deviceRateLimit(limiter, metrics));
  // As a route does once the device's token has passed.
  a.get('/:site/:device', async (c) => {
    await c.var.limitDevice(c.req.param('site'), c.req.param('device'));
    return c.text('ok');
  });
  a.get('/untouched', (c) => c.text('ok'));
  return { a, metrics };
}

const frozen = () => createRateLimiter({ perSecond: 1, burst: 2 }, () => 0);

describe('device rate limit middleware', () => {
  it('gives each device of each site its own allowance, then 429 with Retry-After', async () => {
    const { a, metrics } = app(frozen());
    expect((await a.request('/shop/dev-1')).status).toBe(200);
    expect((await a.request('/shop/dev-1')).status).toBe(200);
    const refused = await a.request('/shop/dev-1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(metrics.render()).toMatch(/cairn_rate_limited_total\{scope="device"\} 1/);
    expect((await a.request('/shop/dev-2')).status).toBe(200);
    expect((await a.request('/other/dev-1')).status).toBe(200);
  });

  it('counts nothing a route does not count itself', async () => {
    const { a } = app(frozen());
    for (let i = 0; i < 5; i++) expect((await a.request('/untouched')).status).toBe(200);
    expect((await a.request('/shop/dev-1')).status).toBe(200);
  });

  it('turned off, never refuses', async () => {
    const { a } = app(null);
    for (let i = 0; i < 5; i++) expect((await a.request('/shop/dev-1')).status).toBe(200);
  });
});
