import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { SiteConfig } from '@cairn/schema';
import type { Env } from '../../context.js';
import type { LoadedConfig, SiteConfigs } from '../../config/site-configs.js';
import { HttpError } from '../../errors.js';
import { requireOrigin, siteCors, type OriginPolicy } from './index.js';

const SHOP = 'https://shop.example';
const GLOBAL = 'https://admin.example';

/** Site configs in memory: `shop` allows SHOP; other sites have none; none loaded yet (no known origins). */
function policy(): OriginPolicy {
  const configs: SiteConfigs = {
    knownOrigins: new Set(),
    async get(site) {
      if (site !== 'shop') return null;
      return {
        config: { site, origins: [SHOP] } as unknown as SiteConfig,
        etag: 'e',
        stored: true,
      } satisfies LoadedConfig;
    },
    async put() {
      throw new Error('not used');
    },
  };
  return { origins: new Set([GLOBAL]), configs };
}

function app() {
  const p = policy();
  const a = new Hono<Env>();
  a.use('*', siteCors(p));
  a.onError((err, c) => (err instanceof HttpError ? c.json(err.body(), err.status) : c.text('boom', 500)));
  a.get('/read', (c) => c.text('ok'));
  // A POST names its site in the body: only the handler knows it.
  a.post('/write', async (c) => {
    const { site } = (await c.req.json()) as { site: string };
    await requireOrigin(p, c, site);
    return c.text('written');
  });
  return a;
}

describe('site CORS middleware', () => {
  it('answers a preflight from an origin the site allows, and refuses any other', async () => {
    const ok = await app().request('/read?site=shop', { method: 'OPTIONS', headers: { origin: SHOP } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/If-None-Match/);
    const refused = await app().request('/read?site=shop', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    expect(refused.status).toBe(403);
  });

  it('decides after the handler, with the site the handler learned from the body', async () => {
    const res = await app().request('/write', {
      method: 'POST',
      headers: { origin: SHOP },
      body: JSON.stringify({ site: 'shop' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(res.headers.get('access-control-expose-headers')).toBe('ETag, Retry-After');
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it("an origin the body's site does not allow is refused before the handler writes, without CORS headers", async () => {
    const res = await app().request('/write', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: JSON.stringify({ site: 'shop' }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('error answers to an allowed origin carry the header too', async () => {
    const res = await app().request('/write', {
      method: 'POST',
      headers: { origin: GLOBAL },
      body: JSON.stringify({ site: 'other' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(GLOBAL);
    const failed = await app().request('/write?site=shop', {
      method: 'POST',
      headers: { origin: SHOP },
      body: 'not json',
    });
    expect(failed.status).toBe(500);
    expect(failed.headers.get('access-control-allow-origin')).toBe(SHOP);
  });

  it("a request without Origin is not a browser's and gets no CORS headers", async () => {
    const res = await app().request('/read?site=shop');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
