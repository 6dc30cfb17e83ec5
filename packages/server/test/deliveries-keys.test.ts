import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDb } from './helpers/db.js';
import { admin, bearer, harness, id, SITE } from './helpers/http.js';

// Which keys read a site's webhook delivery log, and which read the whole config (its triggers'
// URLs): a site's own admin key its own site only; a backend key neither, even for its own site.

const SHOP_ADMIN = 'shop-admin-key-0123456789abcdefghijkl';
const BACKEND = 'test-backend-key-0123456789abcdefghijkl';
const SHOP_BACKEND = 'shop-backend-key-0123456789abcdefghijk';
const OTHER = 'other-shop';
const HOOK = 'https://hooks.example.com/other-shop-secret-path';

describe('the delivery log and the whole config, by key', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it("a site's admin key reads its own site's log only; a backend key reads no log and no triggers", async () => {
    const h = await harness(db, {
      backendKey: BACKEND,
      siteKeys: { sites: { [SITE]: { adminKey: SHOP_ADMIN, backendKey: SHOP_BACKEND } } },
    });
    const T = 1_767_000_000_000;
    const add = async (site: string) => {
      const episode = id();
      await h.store.addDelivery({
        site,
        id: episode,
        triggerId: 'cart',
        person: 'u:someone',
        url: HOOK,
        payload: '{}',
        startedAt: T,
        lastAt: T,
        nextAttemptAt: T,
        now: T,
      });
      return episode;
    };
    const mine = await add(SITE);
    const theirs = await add(OTHER);
    await h.store.putConfig(OTHER, {
      ...((await (await h.req('GET', `/v1/config?site=${OTHER}`)).json()) as object),
      site: OTHER,
      triggers: [
        {
          id: 'cart',
          on: 'cart_abandoned',
          after: '1h',
          minProductViews: 1,
          channels: ['email'],
          url: HOOK,
          cooldown: '1d',
        },
      ],
    } as Parameters<typeof h.store.putConfig>[1]);

    const log = (site: string, key: string) => h.req('GET', `/v1/deliveries?site=${site}`, { headers: bearer(key) });
    const own = await log(SITE, SHOP_ADMIN);
    expect(own.status).toBe(200);
    const ids = ((await own.json()) as { deliveries: { id: string }[] }).deliveries.map((d) => d.id);
    expect(ids).toEqual([mine]);
    expect(ids).not.toContain(theirs);

    const other = await log(OTHER, SHOP_ADMIN);
    expect(other.status).toBe(403);
    expect(await other.text()).not.toContain(theirs);
    // The global admin key reads every site's.
    expect((await h.req('GET', `/v1/deliveries?site=${OTHER}`, { headers: admin })).status).toBe(200);

    for (const key of [BACKEND, SHOP_BACKEND]) {
      for (const site of [SITE, OTHER]) {
        const r = await log(site, key);
        expect(r.status, `${key} ${site}`).toBe(401);
        // The whole config (with the triggers' URLs) neither: refused, not served the public one.
        const config = await h.req('GET', `/v1/config?site=${site}`, { headers: bearer(key) });
        expect(config.status, `${key} config ${site}`).toBe(401);
        expect(await config.text()).not.toContain(HOOK);
      }
    }
    // A site's admin key does not read another site's whole config either.
    const cross = await h.req('GET', `/v1/config?site=${OTHER}`, { headers: bearer(SHOP_ADMIN) });
    expect(cross.status).toBe(403);
    expect(await cross.text()).not.toContain(HOOK);
  });
});
