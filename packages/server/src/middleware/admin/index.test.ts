import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../context.js';
import { HttpError } from '../../errors.js';
import { createKeyRing } from '../../keys/site-keys.js';
import { createRateLimiter } from '../../rate-limit.js';
import { adminOnly, keyOnly, siteFromQuery, type AdminAuth } from './index.js';

const KEY = 'admin-key-0123456789abcdefghijklmnop';
const SHOP_KEY = 'shop-admin-key-0123456789abcdefghijk';

function app(adminKey: AdminAuth | string | undefined) {
  let reached = 0;
  const a = new Hono<Env>();
  a.onError((err, c) => (err instanceof HttpError ? c.json(err.body(), err.status, err.headers) : c.text('boom', 500)));
  a.get('/admin', adminOnly(adminKey, siteFromQuery), (c) => {
    reached++;
    return c.text('ok');
  });
  return { a, reached: () => reached };
}

/** The global key and shop's own, with an allowance of 3 failed keys that never refills. */
function auth(): AdminAuth {
  return {
    keys: createKeyRing({ adminKey: KEY, sites: { shop: { adminKey: SHOP_KEY } } }),
    failures: createRateLimiter({ perSecond: 1, burst: 3 }, () => 0),
    trustProxy: true,
  };
}

const as = (key: string, ip = '10.0.0.1') => ({ headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': ip } });

describe('admin middleware', () => {
  it('lets the admin key through as a Bearer credential', async () => {
    const { a, reached } = app(KEY);
    expect((await a.request('/admin', { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    expect(reached()).toBe(1);
  });

  it('refuses a missing, wrong or malformed key with 401, before the handler', async () => {
    const { a, reached } = app(KEY);
    for (const authorization of [undefined, `Bearer ${KEY}x`, `Bearer ${KEY.slice(1)}`, KEY, 'Basic abc']) {
      const res = await a.request('/admin', { headers: authorization === undefined ? {} : { authorization } });
      expect(res.status, authorization).toBe(401);
    }
    expect(reached()).toBe(0);
  });

  it('answers 403 admin_disabled when the server has no admin key', async () => {
    for (const key of [undefined, '']) {
      const { a, reached } = app(key);
      const res = await a.request('/admin', { headers: { authorization: 'Bearer ' } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('admin_disabled');
      expect(reached()).toBe(0);
    }
  });

  it("lets a site's key reach its own site only; the global key reaches every site", async () => {
    const { a, reached } = app(auth());
    expect((await a.request('/admin?site=shop', as(SHOP_KEY))).status).toBe(200);
    const other = await a.request('/admin?site=other', as(SHOP_KEY));
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: string }).error).toBe('forbidden_site');
    expect((await a.request('/admin', as(SHOP_KEY))).status).toBe(403);
    expect((await a.request('/admin?site=other', as(KEY))).status).toBe(200);
    expect(reached()).toBe(2);
  });

  it('once an address has spent its failed keys, refuses it with 429 even with the right key; others pass', async () => {
    const { a, reached } = app(auth());
    const statuses = [];
    for (const key of ['wrong-1', 'wrong-2', 'wrong-3', KEY])
      statuses.push((await a.request('/admin?site=shop', as(key))).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const refused = await a.request('/admin?site=shop', as(KEY));
    expect(refused.headers.get('retry-after')).toBe('1');
    // A missing header is a failed attempt too.
    expect((await a.request('/admin', { headers: { 'x-forwarded-for': '10.0.0.9' } })).status).toBe(401);
    expect((await a.request('/admin?site=shop', as(KEY, '10.0.0.2'))).status).toBe(200);
    expect(reached()).toBe(1);
  });

  it('keyOnly: open without a key; with one, wants it as Bearer and counts failures', async () => {
    const open = new Hono<Env>();
    open.get('/m', keyOnly(auth(), undefined, 'metrics'), (c) => c.text('ok'));
    expect((await open.request('/m')).status).toBe(200);

    const closed = new Hono<Env>();
    closed.onError((err, c) =>
      err instanceof HttpError ? c.json(err.body(), err.status, err.headers) : c.text('boom', 500),
    );
    closed.get('/m', keyOnly(auth(), 'metrics-key-0123456789abcdefghijklmn', 'metrics'), (c) => c.text('ok'));
    const denied = await closed.request('/m', as('nope'));
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect((await closed.request('/m', as('metrics-key-0123456789abcdefghijklmn'))).status).toBe(200);
  });
});
