import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile, SiteConfig, SiteConfigInput } from '@cairn/schema';
import { makeStores, type TestDb } from './helpers/db.js';
import {
  admin,
  ADMIN_KEY,
  bearer,
  clientToken,
  config,
  harness,
  id,
  pageEvent,
  SECRET,
  SITE,
  touch,
  type Harness,
} from './helpers/http.js';
import { signIdentity } from '../src/identity/identity-token.js';

describe.each(makeStores())('HTTP API on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
  });
  afterAll(() => db.cleanup());

  // Each device's own token, as the SDK makes one with its id: sent unless a test gives other headers.
  const tokens = new Map<string, string>();
  const tokenOf = (deviceId: string): string => {
    if (!tokens.has(deviceId)) tokens.set(deviceId, clientToken());
    return tokens.get(deviceId) as string;
  };
  const collect = (deviceId: string, events: unknown[], headers: Record<string, string> = bearer(tokenOf(deviceId))) =>
    h.req('POST', '/v1/collect', { body: { site: SITE, deviceId, events }, headers });

  describe('POST /v1/collect', () => {
    it('two first collects of one new device with different tokens: one makes it, the other is refused and writes nothing', async () => {
      const dev = id();
      const [ta, tb] = ['a', 'b'].map((x) => x.repeat(40));
      const [ea, eb] = [pageEvent(), pageEvent()];
      const [ra, rb] = await Promise.all([collect(dev, [ea], bearer(ta!)), collect(dev, [eb], bearer(tb!))]);
      expect([ra.status, rb.status].sort()).toEqual([202, 401]);
      const [won, lost] = ra.status === 202 ? [ta!, eb] : [tb!, ea];
      // The winner's token reads the device; the refused batch is not in it.
      const p = await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${dev}`, { headers: bearer(won) });
      expect(p.status).toBe(200);
      expect(((await p.json()) as Profile).pageViews.map((v) => v.id)).not.toContain(lost.id);
    });

    it("stores a batch, and of the device's token only its hash", async () => {
      const dev = id();
      const events = [
        pageEvent(),
        pageEvent({ product: 'SKU-2' }),
        { id: id(), type: 'touch', at: 1_700_000_000_000, touch: touch() },
      ];
      const res = await collect(dev, events);
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 3, duplicates: 0 });

      const t = await h.snapshot();
      const device = (t.devices as Record<string, unknown>[]).find((d) => d.device_id === dev);
      expect(device?.token_hash).toBe(createHash('sha256').update(tokenOf(dev)).digest('hex'));
      expect(JSON.stringify(t)).not.toContain(tokenOf(dev));
      expect((t.events as Record<string, unknown>[]).filter((e) => e.device_id === dev)).toHaveLength(3);
    });

    it('a new device keeps the token its client presents, so a first answer lost with the page costs nothing', async () => {
      const dev = id();
      const mine = `sdk-made-${id()}-${id()}`;
      const res = await collect(dev, [pageEvent()], bearer(mine));
      expect(res.status).toBe(202);
      expect(((await res.json()) as { deviceToken?: string }).deviceToken).toBeUndefined();
      const device = ((await h.snapshot()).devices as Record<string, unknown>[]).find((d) => d.device_id === dev);
      expect(device?.token_hash).toBe(createHash('sha256').update(mine).digest('hex'));
      // The answer was never read: the next page's requests already hold the right token.
      expect((await collect(dev, [pageEvent()], bearer(mine))).status).toBe(202);
      expect((await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${dev}`, { headers: bearer(mine) })).status).toBe(
        200,
      );
      // Someone else's token for it is refused.
      expect((await collect(dev, [pageEvent()], bearer(`other-${id()}-${id()}`))).status).toBe(401);
    });

    it('a new device needs its own token: none, or one too short to be random, is refused and makes nothing', async () => {
      const dev = id();
      const before = await h.snapshot();
      expect((await collect(dev, [pageEvent()], {})).status).toBe(401);
      expect((await collect(dev, [pageEvent()], bearer('short'))).status).toBe(401);
      expect(await h.snapshot()).toEqual(before);
      expect((await collect(dev, [pageEvent()], bearer(tokenOf(dev)))).status).toBe(202);
    });

    it('is idempotent by event id: a retried or overlapping batch adds nothing twice', async () => {
      const dev = id();
      const a = [pageEvent(), pageEvent()];
      await collect(dev, a);
      const token = tokenOf(dev);
      const retry = await collect(dev, a, bearer(token));
      expect(retry.status).toBe(202);
      expect(await retry.json()).toEqual({ accepted: 0, duplicates: 2 });
      const overlap = await collect(dev, [a[1], pageEvent()], bearer(token));
      expect(await overlap.json()).toEqual({ accepted: 1, duplicates: 1 });
      const rows = ((await h.snapshot()).events as Record<string, unknown>[]).filter((e) => e.device_id === dev);
      expect(rows).toHaveLength(3);
    });

    it('accepts text/plain bodies, as navigator.sendBeacon sends them', async () => {
      const res = await h.req('POST', '/v1/collect', {
        raw: JSON.stringify({ site: SITE, deviceId: id(), events: [pageEvent()], deviceToken: clientToken() }),
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
      });
      expect(res.status).toBe(202);
    });

    it('strips unknown top-level fields instead of storing them', async () => {
      const res = await h.req('POST', '/v1/collect', {
        body: { site: SITE, deviceId: id(), events: [pageEvent()], isAdmin: 'zzz-unknown-field' },
        headers: bearer(clientToken()),
      });
      expect(res.status).toBe(202);
      expect(JSON.stringify(await h.snapshot())).not.toContain('zzz-unknown-field');
    });

    it('refuses a wrong device token, and writes nothing', async () => {
      const dev = id();
      await collect(dev, [pageEvent()]);
      const before = await h.snapshot();
      const res = await collect(dev, [pageEvent()], bearer('not-the-token'));
      expect(res.status).toBe(401);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('GET /v1/profile', () => {
    it('answers the profile only to the holder of the device token', async () => {
      const dev = id();
      await collect(dev, [
        pageEvent({ product: 'SKU-9', at: 1_700_000_000_500 }),
        { id: id(), type: 'touch', at: 1_700_000_000_000, touch: touch() },
      ]);
      const token = tokenOf(dev);
      const url = `/v1/profile?site=${SITE}&deviceId=${dev}`;

      expect((await h.req('GET', url)).status).toBe(401);
      expect((await h.req('GET', url, { headers: bearer('wrong-token') })).status).toBe(401);
      expect((await h.req('GET', url, { headers: { authorization: 'Basic abc' } })).status).toBe(401);
      expect((await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${id()}`, { headers: bearer(token) })).status).toBe(
        401,
      );

      const ok = await h.req('GET', url, { headers: bearer(token) });
      expect(ok.status).toBe(200);
      // Private to the device, and revalidated (by ETag) on every use.
      expect(ok.headers.get('cache-control')).toBe('private, no-cache');
      const p = (await ok.json()) as Profile;
      expect(p.userId).toBeNull();
      expect(p.pageViews.map((v) => v.product)).toEqual(['SKU-9']);
      expect(p.products.map((v) => v.id)).toEqual(['SKU-9']);
      expect(p.firstTouch?.source).toBe('pinterest');
    });
  });

  describe('config', () => {
    it('serves a default config for an unconfigured site, with ETag and Cache-Control', async () => {
      const res = await h.req('GET', '/v1/config?site=fresh-site');
      expect(res.status).toBe(200);
      const cfg = (await res.json()) as SiteConfig;
      expect(cfg).toMatchObject({ site: 'fresh-site', variants: [], prompts: [], origins: [] });
      expect(res.headers.get('etag')).toMatch(/^".+"$/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    });

    it('PUT needs the admin key', async () => {
      expect((await h.req('PUT', '/v1/config', { body: config() })).status).toBe(401);
      expect((await h.req('PUT', '/v1/config', { body: config(), headers: bearer('nope') })).status).toBe(401);
      expect((await h.req('PUT', '/v1/config', { body: config(), headers: bearer(`${ADMIN_KEY}x`) })).status).toBe(401);
      const noKey = await harness(db, { adminKey: undefined });
      expect((await noKey.req('PUT', '/v1/config', { body: config(), headers: admin })).status).toBe(403);
    });

    it('PUT validates, GET answers with an ETag, If-None-Match gives 304, a stale If-Match gives 412', async () => {
      const put = await h.req('PUT', '/v1/config', { body: config(), headers: admin });
      expect(put.status).toBe(200);
      const etag = put.headers.get('etag') as string;
      expect(etag).toMatch(/^".+"$/);

      const get = await h.req('GET', `/v1/config?site=${SITE}`);
      expect(get.status).toBe(200);
      expect(get.headers.get('etag')).toBe(etag);
      expect(((await get.json()) as SiteConfig).variants[0]?.id).toBe('pin');

      for (const inm of [etag, `W/${etag}`, `"other", ${etag}`]) {
        const cached = await h.req('GET', `/v1/config?site=${SITE}`, { headers: { 'if-none-match': inm } });
        expect(cached.status).toBe(304);
        expect(await cached.text()).toBe('');
        expect(cached.headers.get('etag')).toBe(etag);
      }
      expect((await h.req('GET', `/v1/config?site=${SITE}`, { headers: { 'if-none-match': '"other"' } })).status).toBe(
        200,
      );

      const changed = config({ variants: [] });
      const ok = await h.req('PUT', '/v1/config', { body: changed, headers: { ...admin, 'if-match': etag } });
      expect(ok.status).toBe(200);
      const etag2 = ok.headers.get('etag') as string;
      expect(etag2).not.toBe(etag);
      const stale = await h.req('PUT', '/v1/config', { body: config(), headers: { ...admin, 'if-match': etag } });
      expect(stale.status).toBe(412);
      const now = await h.req('GET', `/v1/config?site=${SITE}`);
      expect(now.headers.get('etag')).toBe(etag2);
      expect(((await now.json()) as SiteConfig).variants).toEqual([]);
    });

    it('PUT with If-None-Match: * saves only a first config: a second create-only save gets 412', async () => {
      // A site of its own: the other tests here store SITE's config.
      const site = 'first-save';
      const cfg = (over: Partial<SiteConfigInput> = {}) => config({ site, ...over });
      const url = `/v1/config?site=${site}`;
      const first = await h.req('PUT', url, { body: cfg(), headers: { ...admin, 'if-none-match': '*' } });
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag');
      const again = await h.req('PUT', url, {
        body: cfg({ variants: [] }),
        headers: { ...admin, 'if-none-match': '*' },
      });
      expect(again.status).toBe(412);
      expect(((await again.json()) as { message: string }).message).toMatch(/If-None-Match/);
      expect((await h.req('GET', url)).headers.get('etag')).toBe(etag);
      // Only "*" means create-only on a PUT, and not together with If-Match.
      for (const headers of [{ 'if-none-match': etag! }, { 'if-none-match': '*', 'if-match': etag! }] as Record<
        string,
        string
      >[]) {
        const bad = await h.req('PUT', url, { body: cfg({ variants: [] }), headers: { ...admin, ...headers } });
        expect(bad.status).toBe(400);
      }
      expect((await h.req('GET', url)).headers.get('etag')).toBe(etag);
    });

    it('PUT answers 400 with located zod issues, and stores nothing', async () => {
      const before = await h.snapshot();
      const bad = config({
        site: 'other-site',
        variants: [{ id: 'v', name: 'x', slots: { 'hero-title': { href: 'javascript:alert(1)' } } }],
      });
      const res = await h.req('PUT', '/v1/config', { body: bad, headers: admin });
      expect(res.status).toBe(400);
      const err = (await res.json()) as { error: string; field: string; issues: { path: string; message: string }[] };
      expect(err.field).toBe('variants.0.slots.hero-title.href');
      expect(err.issues[0]?.message).toMatch(/http\(s\) or relative/);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('POST /v1/optins', () => {
    it('stores the consent proof once, however often it is submitted', async () => {
      const dev = id();
      await collect(dev, [pageEvent()]);
      const token = tokenOf(dev);
      const optin = {
        id: id(),
        site: SITE,
        deviceId: dev,
        email: 'ann@example.com',
        consentText: 'Send me the guide',
        at: 1_700_000_000_000,
        promptId: 'guide',
        touch: touch(),
      };
      // A device the server knows needs its token: an opt-in lands in its (merged) profile and export.
      const before = await h.snapshot();
      for (const headers of [{}, bearer('not-the-token-of-this-device-0000')])
        expect((await h.req('POST', '/v1/optins', { body: optin, headers })).status).toBe(401);
      expect(await h.snapshot()).toEqual(before);
      const a = await h.req('POST', '/v1/optins', { body: optin, headers: bearer(token) });
      const b = await h.req('POST', '/v1/optins', { body: optin, headers: bearer(token) });
      expect([a.status, b.status]).toEqual([201, 200]);
      expect(await b.json()).toEqual({ id: optin.id, status: 'duplicate' });
      const rows = ((await h.snapshot()).optins as Record<string, unknown>[]).filter((r) => r.id === optin.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.consent_text).toBe('Send me the guide');
      const p = (await (
        await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${dev}`, { headers: bearer(token) })
      ).json()) as Profile;
      expect(p.optedIn).toBe(true);
    });
  });

  describe('GET /v1/sdk.js', () => {
    it('embeds the site config as a script-safe string literal, with ETag and 304', async () => {
      await h.req('PUT', '/v1/config', { body: config(), headers: admin });
      const res = await h.req('GET', `/v1/sdk.js?site=${SITE}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
      const js = await res.text();
      expect(js).not.toContain('__CAIRN_EMBEDDED_CONFIG__');
      expect(js).not.toContain('</script>');
      const win: { __cfg?: string[] } = {};
      runInNewContext(js, { window: win });
      const served = (await (await h.req('GET', `/v1/config?site=${SITE}`)).json()) as SiteConfig;
      expect(win.__cfg?.map((s) => JSON.parse(s))).toEqual([served, served]);

      const etag = res.headers.get('etag') as string;
      expect((await h.req('GET', `/v1/sdk.js?site=${SITE}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      await h.req('PUT', '/v1/config', { body: config({ prompts: [], variants: [] }), headers: admin });
      const after = await h.req('GET', `/v1/sdk.js?site=${SITE}`, { headers: { 'if-none-match': etag } });
      expect(after.status).toBe(200);
    });

    it('answers 503 with a clear message when the bundle is not built', async () => {
      const h2 = await harness(db, { sdkPath: '/nonexistent/cairn.js' });
      const res = await h2.req('GET', `/v1/sdk.js?site=${SITE}`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { message: string }).message).toMatch(/not built/);
    });
  });

  describe('privacy endpoints', () => {
    it("export lists every linked device's data; delete erases the user, links and their events from every table", async () => {
      const user = `erase-${id()}`;
      const devs = [id(), id()];
      for (const d of devs) {
        await collect(d, [pageEvent(), pageEvent()]);
        // A login token links one device: each device logs in with its own.
        const token = signIdentity({ userId: user, secret: SECRET, site: SITE, deviceId: d });
        const idf = await h.req('POST', '/v1/identify', {
          body: { site: SITE, deviceId: d, userId: user, token },
          headers: bearer(tokenOf(d)),
        });
        expect(idf.status).toBe(200);
      }
      await h.req('POST', '/v1/optins', {
        body: { id: id(), site: SITE, deviceId: devs[0], email: 'erase@example.com', consentText: 'ok', at: 1 },
        headers: bearer(tokenOf(devs[0]!)),
      });
      const bystander = id();
      await collect(bystander, [pageEvent()]);

      expect((await h.req('GET', `/v1/users/${user}/export?site=${SITE}`)).status).toBe(401);
      const exp = await h.req('GET', `/v1/users/${user}/export?site=${SITE}`, { headers: admin });
      expect(exp.status).toBe(200);
      const data = (await exp.json()) as {
        userId: string;
        events: { deviceId: string }[];
        devices: unknown[];
        optins: unknown[];
        links: unknown[];
      };
      expect(data.userId).toBe(user);
      expect(data.devices).toHaveLength(2);
      expect(data.links).toHaveLength(2);
      expect(data.optins).toHaveLength(1);
      expect(new Set(data.events.map((e) => e.deviceId))).toEqual(new Set(devs));
      expect(data.events).toHaveLength(4);

      expect((await h.req('DELETE', `/v1/users/${user}?site=${SITE}`)).status).toBe(401);
      const del = await h.req('DELETE', `/v1/users/${user}?site=${SITE}`, { headers: admin });
      expect(del.status).toBe(200);
      const t = await h.snapshot();
      const text = JSON.stringify(t);
      expect(text).not.toContain(user);
      expect(text).not.toContain('erase@example.com');
      for (const d of devs) expect((t.events as Record<string, unknown>[]).some((e) => e.device_id === d)).toBe(false);
      // The devices carry on as anonymous devices; a bystander keeps everything.
      expect(
        (t.devices as Record<string, unknown>[])
          .filter((d) => devs.includes(d.device_id as string))
          .map((d) => d.user_id),
      ).toEqual([null, null]);
      expect((t.events as Record<string, unknown>[]).some((e) => e.device_id === bystander)).toBe(true);
      const p = (await (
        await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${devs[0]}`, {
          headers: bearer(tokenOf(devs[0] as string)),
        })
      ).json()) as Profile;
      expect(p).toMatchObject({ userId: null, pageViews: [], optedIn: false });

      expect((await h.req('DELETE', `/v1/users/${user}?site=${SITE}`, { headers: admin })).status).toBe(404);
      expect((await h.req('GET', `/v1/users/${user}/export?site=${SITE}`, { headers: admin })).status).toBe(404);
    });
  });

  describe('health and metrics', () => {
    it('GET /healthz answers ok with the store kind', async () => {
      const res = await h.req('GET', '/healthz');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, store: db.name });
    });

    it('GET /metrics counts requests by route and status, events, duplicates and errors', async () => {
      const m = await harness(db);
      const dev = id();
      const ev = [pageEvent(), pageEvent(), pageEvent()];
      const token = clientToken();
      await m.req('POST', '/v1/collect', { body: { site: SITE, deviceId: dev, events: ev }, headers: bearer(token) });
      await m.req('POST', '/v1/collect', {
        body: { site: SITE, deviceId: dev, events: ev.slice(0, 2) },
        headers: bearer(token),
      });
      await m.req('POST', '/v1/collect', { raw: '{', headers: { 'content-type': 'application/json' } });
      await m.req('GET', `/v1/profile?site=${SITE}&deviceId=${dev}`, { headers: bearer(token) });
      const text = await (await m.req('GET', '/metrics')).text();
      expect(text).toContain('cairn_http_requests_total{route="/v1/collect",method="POST",status="202"} 2');
      expect(text).toContain('cairn_http_requests_total{route="/v1/collect",method="POST",status="400"} 1');
      expect(text).toContain('cairn_http_requests_total{route="/v1/profile",method="GET",status="200"} 1');
      expect(text).toMatch(/^cairn_events_ingested_total 3$/m);
      expect(text).toMatch(/^cairn_events_duplicate_total 2$/m);
      expect(text).toContain('# TYPE cairn_errors_total counter');
      expect(text).not.toContain(dev);
    });
  });
});
