// Triggers are the server's business: their webhook URLs and audiences never reach a browser (the
// public GET /v1/config, the config sdk.js embeds), while the console's editor, with an admin key,
// reads the whole config to save it back. And the routes that feed the episodes: collect, logout
// with reason 'denied'.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateSiteConfig, type SiteConfig } from '@cairn/schema';
import { makeStores, type TestDb } from './helpers/db.js';
import {
  ADMIN_KEY,
  admin,
  bearer,
  clientToken,
  config,
  harness,
  id,
  pageEvent,
  SITE,
  type Harness,
} from './helpers/http.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const HOOK = 'https://hooks.example.com/cairn-secret-path';

function withTriggers(site = SITE): SiteConfig {
  const r = validateSiteConfig(
    config({
      site,
      triggers: [
        {
          id: 'browse',
          on: 'browse_abandoned',
          after: '2h',
          channels: ['email'],
          url: HOOK,
          where: { traits: { tier: 'vip-secret-tier' } },
        },
      ],
    }),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

describe.each(makeStores())('triggers and the public config on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
    // Stored directly: saving through PUT also needs the site's webhook secret, not the subject here.
    await h.store.putConfig(SITE, withTriggers());
  });
  afterAll(() => db.cleanup());

  it('GET /v1/config without a key serves everything but the triggers', async () => {
    const res = await h.req('GET', `/v1/config?site=${SITE}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(HOOK);
    expect(text).not.toContain('vip-secret-tier');
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body.triggers).toBeUndefined();
    expect(body).toMatchObject({ site: SITE, variants: [{ id: 'pin' }] });
    expect(res.headers.get('vary')).toMatch(/authorization/i);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('GET /v1/config with the admin key serves the whole config, uncached, with the stored ETag', async () => {
    const open = await h.req('GET', `/v1/config?site=${SITE}`);
    const res = await h.req('GET', `/v1/config?site=${SITE}`, { headers: admin });
    expect(res.status).toBe(200);
    const body = (await res.json()) as SiteConfig;
    expect(body.triggers.map((t) => t.url)).toEqual([HOOK]);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    // The editor saves with If-Match: the stored config's ETag. The public copy, without the
    // triggers, has another: saved back, it is refused (test/public-config-etag.test.ts).
    expect(res.headers.get('etag')).toBe((await h.store.getConfig(SITE))?.etag);
    expect(open.headers.get('etag')).not.toBe(res.headers.get('etag'));
  });

  it('a wrong key is refused rather than served the public config', async () => {
    const res = await h.req('GET', `/v1/config?site=${SITE}`, { headers: bearer(`${ADMIN_KEY}-wrong`) });
    expect(res.status).toBe(401);
  });

  it('the config embedded in sdk.js has no triggers', async () => {
    const res = await h.req('GET', `/v1/sdk.js?site=${SITE}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('Styled by you');
    expect(text).not.toContain('hooks.example.com');
    expect(text).not.toContain('vip-secret-tier');
    expect(text).not.toContain('triggers');
  });

  it("a collect opens the person's episode; a logout with reason 'denied' records the refusal and cancels it", async () => {
    const dev = id();
    const token = clientToken();
    const collect = await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: dev, events: [pageEvent({ product: 'SKU-9', at: Date.now() })] },
      headers: bearer(token),
    });
    expect(collect.status).toBe(202);
    const mine = async () => (await h.store.listEpisodes(SITE, 100)).filter((e) => e.person === `d:${dev}`);
    expect(await mine()).toMatchObject([{ status: 'open', triggerId: 'browse' }]);
    const out = await h.req('POST', '/v1/logout', {
      body: { site: SITE, deviceId: dev, reason: 'denied' },
      headers: bearer(token),
    });
    expect(out.status).toBe(200);
    expect(await mine()).toMatchObject([{ status: 'cancelled', reason: 'denied' }]);
    const device = (await db.tables()).devices?.find((d) => d.device_id === dev);
    expect(device?.denied_at).not.toBeNull();
  });

  it('a plain logout records no refusal', async () => {
    const dev = id();
    const token = clientToken();
    await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: dev, events: [pageEvent({ product: 'SKU-9', at: Date.now() })] },
      headers: bearer(token),
    });
    expect(
      (await h.req('POST', '/v1/logout', { body: { site: SITE, deviceId: dev }, headers: bearer(token) })).status,
    ).toBe(200);
    const device = (await db.tables()).devices?.find((d) => d.device_id === dev);
    expect(device?.denied_at).toBeNull();
    expect((await h.store.listEpisodes(SITE, 100)).find((e) => e.person === `d:${dev}`)?.status).toBe('open');
  });
});
