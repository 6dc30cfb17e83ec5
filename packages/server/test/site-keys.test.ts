// Per-site keys: a site's own admin key reaches that site only (config, reports, users, console), its
// own identity secret is the only one its logins are checked with, and the global keys still serve
// every site without its own. Keys under 32 characters stop the server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIdentity } from '../src/identity/identity-token.js';
import { createKeyRing, MIN_KEY_LENGTH, siteEnvStem, siteKeysFromEnv } from '../src/keys/site-keys.js';
import { startServer, StartupError } from '../src/server.js';
import { runCli, startCli } from './helpers/cli.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { ADMIN_KEY, bearer, config, harness, id, pageEvent, SECRET, type Harness } from './helpers/http.js';

const SHOP_ADMIN = 'shop-own-admin-key-0123456789abcdefgh';
const SHOP_SECRET = 'shop-own-identity-secret-0123456789abc';
const OTHER_ADMIN = 'other-own-admin-key-0123456789abcdefg';

describe('site names in environment variables', () => {
  it('upper-cases the site id and writes every other character as _', () => {
    expect(siteEnvStem('shop')).toBe('SHOP');
    expect(siteEnvStem('my-shop_2')).toBe('MY_SHOP_2');
    expect(
      siteKeysFromEnv({
        CAIRN_SITE_MY_SHOP_ADMIN_KEY: 'a',
        CAIRN_SITE_MY_SHOP_IDENTITY_SECRET: 'b',
        CAIRN_SITE_EMPTY_ADMIN_KEY: '',
        CAIRN_ADMIN_KEY: 'global, not a site',
      }),
    ).toEqual({ MY_SHOP: { adminKey: 'a', identitySecret: 'b' } });
  });

  it("checks a site's logins with its own secret only; others fall back to the global one", () => {
    const ring = createKeyRing({
      identitySecret: SECRET,
      sites: { shop: { identitySecret: SHOP_SECRET } },
      envStems: { MY_SHOP: { identitySecret: `x-${'0123456789abcdef'.repeat(2)}` } },
    });
    expect(ring.identitySecretFor('shop')).toBe(SHOP_SECRET);
    expect(ring.identitySecretFor('my-shop')).toBe(`x-${'0123456789abcdef'.repeat(2)}`);
    expect(ring.identitySecretFor('elsewhere')).toBe(SECRET);
    expect(createKeyRing({}).identitySecretFor('shop')).toBeUndefined();
  });
});

describe('a keys-file entry owns its site', () => {
  // my-shop and my_shop share the variable name MY_SHOP; the keys file names my_shop exactly.
  const meantForMyShop = {
    adminKey: `m-${'0123456789abcdef'.repeat(2)}`,
    identitySecret: `s-${'0123456789abcdef'.repeat(2)}`,
  };
  const ring = (fileEntry: { adminKey?: string; identitySecret?: string }) =>
    createKeyRing({ identitySecret: SECRET, sites: { my_shop: fileEntry }, envStems: { MY_SHOP: meantForMyShop } });

  it("a variable's admin key never reaches a site the keys file names", () => {
    const scope = ring({ adminKey: SHOP_ADMIN }).adminScope(meantForMyShop.adminKey);
    expect(scope?.kind).toBe('site');
    const covers = scope?.kind === 'site' ? scope.covers : () => true;
    expect(covers('my-shop')).toBe(true);
    expect(covers('MY-SHOP')).toBe(true);
    expect(covers('my_shop')).toBe(false);
  });

  it("a variable's identity secret never checks the logins of a site the keys file names", () => {
    expect(ring({ adminKey: SHOP_ADMIN }).identitySecretFor('my_shop')).toBe(SECRET);
    expect(ring({ identitySecret: SHOP_SECRET }).identitySecretFor('my_shop')).toBe(SHOP_SECRET);
    expect(ring({ adminKey: SHOP_ADMIN }).identitySecretFor('my-shop')).toBe(meantForMyShop.identitySecret);
  });
});

describe.each(makeStores())('per-site admin keys on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db, {
      siteKeys: {
        sites: { shop: { adminKey: SHOP_ADMIN, identitySecret: SHOP_SECRET } },
        envStems: { OTHER: { adminKey: OTHER_ADMIN } },
      },
    });
    // Both sites have a config and a user with a history.
    for (const site of ['shop', 'other']) {
      expect((await h.req('PUT', '/v1/config', { body: config({ site }), headers: bearer(ADMIN_KEY) })).status).toBe(
        200,
      );
      await h.store.ingest(site, `dev-${site}`, [pageEvent()], `hash-${site}`, 'mobile');
      await h.store.link(site, `dev-${site}`, 'alice', Date.now());
    }
  });
  afterAll(() => db.cleanup());

  const shopKey = bearer(SHOP_ADMIN);

  it("a site's key saves its own config, and is refused another site's with nothing written", async () => {
    const own = await h.req('PUT', '/v1/config', { body: config({ site: 'shop', origins: [] }), headers: shopKey });
    expect(own.status).toBe(200);
    const before = await h.snapshot();
    for (const path of ['/v1/config', '/v1/config?site=shop']) {
      const res = await h.req('PUT', path, { body: config({ site: 'other', origins: [] }), headers: shopKey });
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('forbidden_site');
    }
    expect(await h.snapshot()).toEqual(before);
  });

  it("a site's key reads its own reports, not another site's", async () => {
    for (const report of ['channels', 'experiments']) {
      expect((await h.req('GET', `/v1/reports/${report}?site=shop`, { headers: shopKey })).status).toBe(200);
      expect((await h.req('GET', `/v1/reports/${report}?site=other`, { headers: shopKey })).status).toBe(403);
      expect((await h.req('GET', `/v1/reports/${report}`, { headers: shopKey })).status).toBe(403);
      expect((await h.req('GET', `/v1/reports/${report}?site=other`, { headers: bearer(OTHER_ADMIN) })).status).toBe(
        200,
      );
    }
  });

  it("a site's key cannot export or erase another site's users", async () => {
    const before = await h.snapshot();
    expect((await h.req('GET', '/v1/users/alice/export?site=other', { headers: shopKey })).status).toBe(403);
    expect((await h.req('DELETE', '/v1/users/alice?site=other', { headers: shopKey })).status).toBe(403);
    expect(await h.snapshot()).toEqual(before);
    expect((await h.req('GET', '/v1/users/alice/export?site=shop', { headers: shopKey })).status).toBe(200);
    expect((await h.req('GET', '/v1/users/alice/export?site=other', { headers: bearer(OTHER_ADMIN) })).status).toBe(
      200,
    );
  });

  it("the console signs in with a site's key, and checks that site's configs only", async () => {
    const validate = (body: string, key: string) =>
      h.req('POST', '/console/api/validate', {
        raw: body,
        headers: { ...bearer(key), 'content-type': 'application/json' },
      });
    expect((await validate('{}', SHOP_ADMIN)).status).toBe(200);
    expect((await validate('{"site":', SHOP_ADMIN)).status).toBe(200);
    expect((await validate('{"site":"shop"}', SHOP_ADMIN)).status).toBe(200);
    expect((await validate('{"site":"other"}', SHOP_ADMIN)).status).toBe(403);
    expect((await validate('{"site":"other"}', ADMIN_KEY)).status).toBe(200);
  });

  it('the global key reaches every site; a key of no site is refused', async () => {
    for (const site of ['shop', 'other', 'third']) {
      expect((await h.req('GET', `/v1/reports/channels?site=${site}`, { headers: bearer(ADMIN_KEY) })).status).toBe(
        200,
      );
    }
    expect((await h.req('GET', '/v1/reports/channels?site=shop', { headers: bearer(SHOP_SECRET) })).status).toBe(401);
  });

  it("checks a site's logins with its own identity secret, not the global one", async () => {
    const login = async (site: string, secret: string) => {
      const deviceId = id();
      const token = `sdk-made-${id()}`;
      const c = await h.req('POST', '/v1/collect', {
        body: { site, deviceId, events: [pageEvent()] },
        headers: bearer(token),
      });
      expect(c.status).toBe(202);
      const idToken = signIdentity({ userId: 'bob', site, secret });
      return (
        await h.req('POST', '/v1/identify', {
          body: { site, deviceId, userId: 'bob', token: idToken, device: 'mobile' },
          headers: bearer(token),
        })
      ).status;
    };
    expect(await login('shop', SHOP_SECRET)).toBe(200);
    expect(await login('shop', SECRET)).toBe(401);
    expect(await login('other', SECRET)).toBe(200);
    expect(await login('other', SHOP_SECRET)).toBe(401);
  });
});

describe('keys under 32 characters stop the server', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());
  const where = { port: 0, db: db.options.sqlitePath as string, logger: false as const };

  it('startServer: a StartupError naming the variable', async () => {
    const short = 'x'.repeat(MIN_KEY_LENGTH - 1);
    const cases: [Parameters<typeof startServer>[0], RegExp][] = [
      [{ ...where, adminKey: short }, /CAIRN_ADMIN_KEY is 31 characters; it must be at least 32/],
      [{ ...where, identitySecret: short }, /CAIRN_IDENTITY_SECRET is 31 characters/],
      [{ ...where, siteKeys: { envStems: { MY_SHOP: { adminKey: short } } } }, /CAIRN_SITE_MY_SHOP_ADMIN_KEY/],
      [{ ...where, siteKeys: { sites: { shop: { identitySecret: short } } } }, /identity secret of site "shop"/],
      [{ ...where, metricsKey: short }, /CAIRN_METRICS_KEY/],
    ];
    for (const [options, message] of cases) {
      const started = startServer(options);
      await expect(started).rejects.toBeInstanceOf(StartupError);
      await expect(started).rejects.toThrow(message);
    }
    // 32 is enough.
    const s = await startServer({ ...where, adminKey: '0123456789abcdef'.repeat(2) });
    await s.close();
  });

  it('a key of few different characters is a placeholder, and stops the server too', async () => {
    const cases: [Parameters<typeof startServer>[0], RegExp][] = [
      [{ ...where, adminKey: 'x'.repeat(MIN_KEY_LENGTH) }, /CAIRN_ADMIN_KEY has only 1 different characters/],
      [{ ...where, webhookSecret: 'abcd'.repeat(10) }, /CAIRN_WEBHOOK_SECRET has only 4 different/],
      [{ ...where, siteKeys: { sites: { shop: { adminKey: 'changeme'.repeat(4) } } } }, /admin key of site "shop"/],
    ];
    for (const [options, message] of cases) {
      const started = startServer(options);
      await expect(started).rejects.toBeInstanceOf(StartupError);
      await expect(started).rejects.toThrow(message);
    }
    // Nine different characters are enough.
    const s = await startServer({ ...where, adminKey: '012345678'.repeat(4) });
    await s.close();
  });

  it('the CLI: exit 1, one line naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { CAIRN_ADMIN_KEY: 'cairn-dev-admin-key' },
        /^cairn-server: CAIRN_ADMIN_KEY is 19 characters; it must be at least 32/,
      ],
      [{ CAIRN_IDENTITY_SECRET: 'short' }, /^cairn-server: CAIRN_IDENTITY_SECRET is 5 characters/],
      [{ CAIRN_SITE_SHOP_IDENTITY_SECRET: 'short' }, /^cairn-server: CAIRN_SITE_SHOP_IDENTITY_SECRET is 5/],
    ];
    for (const [env, message] of cases) {
      const r = runCli(['--db', db.options.sqlitePath as string, '--port', '0'], env);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('the CLI reads per-site keys from the environment and from --keys', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it("a site's key from CAIRN_SITE_<SITE>_ADMIN_KEY and from a keys file reaches its site only", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-keys-'));
    const keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ 'other-site': { adminKey: OTHER_ADMIN } }));
    const s = await startCli(['--db', db.options.sqlitePath as string, '--keys', keysFile], {
      CAIRN_ADMIN_KEY: '',
      CAIRN_SITE_MY_SHOP_ADMIN_KEY: SHOP_ADMIN,
    });
    try {
      const report = async (site: string, key: string) =>
        (await fetch(`${s.url}/v1/reports/channels?site=${site}`, { headers: bearer(key) })).status;
      expect(await report('my-shop', SHOP_ADMIN)).toBe(200);
      expect(await report('other-site', SHOP_ADMIN)).toBe(403);
      expect(await report('other-site', OTHER_ADMIN)).toBe(200);
      expect(await report('my-shop', OTHER_ADMIN)).toBe(403);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
    }
  });

  it('a bad keys file stops the start with one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-keys-'));
    const keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ shop: { adminKey: 'short' } }));
    const r = runCli(['--db', db.options.sqlitePath as string, '--port', '0', '--keys', keysFile]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/admin key of site "shop" \(keys file\) is 5 characters/);
    writeFileSync(keysFile, JSON.stringify({ shop: { adminKey: SHOP_ADMIN, typo: 'x' } }));
    expect(runCli(['--db', db.options.sqlitePath as string, '--port', '0', '--keys', keysFile]).stderr).toMatch(
      /shop\.typo: unknown field/,
    );
  });
});

describe('backend keys and webhook secrets', () => {
  const BACKEND = 'global-backend-key-0123456789abcdefghi';
  const HOOK = 'global-webhook-secret-0123456789abcdef';
  const SHOP_HOOK = 'shop-own-webhook-secret-0123456789abcd';

  it('come from CAIRN_SITE_<SITE>_BACKEND_KEY and _WEBHOOK_SECRET too', () => {
    expect(
      siteKeysFromEnv({
        CAIRN_SITE_MY_SHOP_BACKEND_KEY: 'b',
        CAIRN_SITE_MY_SHOP_WEBHOOK_SECRET: 'w',
        CAIRN_SITE_OTHER_WEBHOOK_SECRET: '',
        CAIRN_BACKEND_KEY: 'global, not a site',
      }),
    ).toEqual({ MY_SHOP: { backendKey: 'b', webhookSecret: 'w' } });
  });

  it("a site's webhook secret is its keys-file entry's, else its variable's, else the global one", () => {
    const ring = createKeyRing({
      webhookSecret: HOOK,
      sites: { shop: { webhookSecret: SHOP_HOOK }, my_shop: { adminKey: SHOP_ADMIN } },
      envStems: { MY_SHOP: { webhookSecret: `v-${'0123456789abcdef'.repeat(2)}` } },
    });
    expect(ring.webhookSecretFor('shop')).toBe(SHOP_HOOK);
    expect(ring.webhookSecretFor('my-shop')).toBe(`v-${'0123456789abcdef'.repeat(2)}`);
    // The keys file names my_shop: the variable meant for a look-alike name is not its secret.
    expect(ring.webhookSecretFor('my_shop')).toBe(HOOK);
    expect(ring.webhookSecretFor('elsewhere')).toBe(HOOK);
    expect(createKeyRing({}).webhookSecretFor('shop')).toBeUndefined();
  });

  it('a backend key is no admin key, and an admin key no backend key; a site backend key covers its site', () => {
    const ring = createKeyRing({
      adminKey: ADMIN_KEY,
      backendKey: BACKEND,
      sites: { shop: { backendKey: SHOP_ADMIN } },
      envStems: { OTHER: { backendKey: OTHER_ADMIN } },
    });
    expect(ring.backendEnabled).toBe(true);
    expect(ring.adminScope(BACKEND)).toBeNull();
    expect(ring.adminScope(SHOP_ADMIN)).toBeNull();
    expect(ring.backendScope(ADMIN_KEY)).toBeNull();
    expect(ring.backendScope(BACKEND)).toEqual({ kind: 'all' });
    const shop = ring.backendScope(SHOP_ADMIN);
    const other = ring.backendScope(OTHER_ADMIN);
    expect([shop?.kind === 'site' && shop.covers('shop'), shop?.kind === 'site' && shop.covers('other')]).toEqual([
      true,
      false,
    ]);
    expect(other?.kind === 'site' && other.covers('other')).toBe(true);
    expect(createKeyRing({ adminKey: ADMIN_KEY }).backendEnabled).toBe(false);
  });

  it('under 32 characters, they stop the server naming the variable or the keys-file entry', async () => {
    const db = sqliteDb();
    try {
      const where = { port: 0, db: db.options.sqlitePath as string, logger: false as const, triggers: false };
      const short = 'x'.repeat(MIN_KEY_LENGTH - 1);
      const cases: [Parameters<typeof startServer>[0], RegExp][] = [
        [{ ...where, backendKey: short }, /CAIRN_BACKEND_KEY is 31 characters; it must be at least 32/],
        [{ ...where, webhookSecret: short }, /CAIRN_WEBHOOK_SECRET is 31 characters/],
        [{ ...where, siteKeys: { envStems: { MY_SHOP: { backendKey: short } } } }, /CAIRN_SITE_MY_SHOP_BACKEND_KEY/],
        [
          { ...where, siteKeys: { envStems: { MY_SHOP: { webhookSecret: short } } } },
          /CAIRN_SITE_MY_SHOP_WEBHOOK_SECRET/,
        ],
        [
          { ...where, siteKeys: { sites: { shop: { backendKey: short } } } },
          /backend key of site "shop" \(keys file\)/,
        ],
        [{ ...where, siteKeys: { sites: { shop: { webhookSecret: short } } } }, /webhook secret of site "shop"/],
      ];
      for (const [options, message] of cases) {
        const started = startServer(options);
        await expect(started).rejects.toBeInstanceOf(StartupError);
        await expect(started).rejects.toThrow(message);
      }
    } finally {
      await db.cleanup();
    }
  });

  it("the CLI: CAIRN_BACKEND_KEY and a keys file's backendKey set traits; the keys file takes webhookSecret", async () => {
    const db = sqliteDb();
    const dir = mkdtempSync(join(tmpdir(), 'cairn-keys-'));
    const keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ shop: { backendKey: SHOP_ADMIN, webhookSecret: SHOP_HOOK } }));
    const s = await startCli(['--db', db.options.sqlitePath as string, '--keys', keysFile], {
      CAIRN_ADMIN_KEY: '',
      CAIRN_BACKEND_KEY: BACKEND,
    });
    try {
      const put = async (site: string, key: string) =>
        (
          await fetch(`${s.url}/v1/users/alice/traits?site=${site}`, {
            method: 'PUT',
            headers: { ...bearer(key), 'content-type': 'application/json' },
            body: JSON.stringify({ tier: 'vip' }),
          })
        ).status;
      expect(await put('shop', SHOP_ADMIN)).toBe(200);
      expect(await put('other', SHOP_ADMIN)).toBe(403);
      expect(await put('other', BACKEND)).toBe(200);
      // Neither is an admin key.
      expect((await fetch(`${s.url}/v1/reports/channels?site=shop`, { headers: bearer(BACKEND) })).status).toBe(403);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exited;
      await db.cleanup();
    }
    writeFileSync(keysFile, JSON.stringify({ shop: { webhookSecret: 'short' } }));
    const r = runCli(['--db', join(dir, 'x.db'), '--port', '0', '--keys', keysFile]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/webhook secret of site "shop" \(keys file\) is 5 characters/);
  });
});
