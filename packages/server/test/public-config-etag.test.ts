// The public copy of a config with triggers (GET /v1/config without a key) has its own ETag: saved
// back with If-Match, as a script or an editor served that copy by a cache would, it is refused
// (412) instead of dropping the triggers. Without triggers the two copies are one, with one ETag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfig } from '@cairn/schema';
import { makeStores, type TestDb } from './helpers/db.js';
import { admin, config, harness, SITE, type Harness } from './helpers/http.js';

const WEBHOOK_SECRET = 'whsec-etag-0123456789abcdefghijklmnop';
const HOOK = 'https://hooks.example.com/cairn';
const trigger = {
  id: 'cart',
  on: 'cart_abandoned' as const,
  after: '1h',
  channels: ['email' as const],
  url: HOOK,
};

describe.each(makeStores())('the public copy of a config and If-Match on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db, { webhookSecret: WEBHOOK_SECRET, configTtlMs: 0 });
  });
  afterAll(() => db.cleanup());

  const put = (body: unknown, ifMatch: string | null) =>
    h.req('PUT', '/v1/config', { body, headers: { ...admin, ...(ifMatch ? { 'if-match': ifMatch } : {}) } });

  it('a public read saved back is refused while there are triggers; the admin read saves', async () => {
    expect((await put(config({ triggers: [trigger] }), null)).status).toBe(200);

    const open = await h.req('GET', `/v1/config?site=${SITE}`);
    const publicEtag = open.headers.get('etag') ?? '';
    const publicCopy = (await open.json()) as Partial<SiteConfig>;
    expect(publicCopy.triggers).toBeUndefined();
    // The public copy revalidates with its own ETag.
    expect((await h.req('GET', `/v1/config?site=${SITE}`, { headers: { 'if-none-match': publicEtag } })).status).toBe(
      304,
    );

    const edited = { ...publicCopy, measurement: { holdout: 0.2 } };
    const refused = await put(edited, publicEtag);
    expect(refused.status).toBe(412);
    expect(((await refused.json()) as { message: string }).message).toContain('public copy');
    expect((await h.store.getConfig(SITE))?.config.triggers.map((t) => t.url)).toEqual([HOOK]);

    const full = await h.req('GET', `/v1/config?site=${SITE}`, { headers: admin });
    const fullEtag = full.headers.get('etag') ?? '';
    expect(fullEtag).not.toBe(publicEtag);
    const saved = await put({ ...((await full.json()) as object), measurement: { holdout: 0.2 } }, fullEtag);
    expect(saved.status).toBe(200);
    expect((await h.store.getConfig(SITE))?.config.triggers.map((t) => t.url)).toEqual([HOOK]);
  });

  it('without triggers, the public copy is the config: one ETag, and a public read saves back', async () => {
    expect((await put(config(), null)).status).toBe(200);
    const open = await h.req('GET', `/v1/config?site=${SITE}`);
    const full = await h.req('GET', `/v1/config?site=${SITE}`, { headers: admin });
    expect(open.headers.get('etag')).toBe(full.headers.get('etag'));
    const saved = await put(
      { ...((await open.json()) as object), measurement: { holdout: 0.3 } },
      open.headers.get('etag'),
    );
    expect(saved.status).toBe(200);
  });
});
