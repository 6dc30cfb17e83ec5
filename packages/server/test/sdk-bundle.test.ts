import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSiteConfig, type SiteConfig } from '@cairn/schema';
import { configLiteral, embedConfig, PLACEHOLDER, publicConfig, resolveSdkPath } from '../src/sdk/sdk-bundle.js';
import { sqliteDb } from './helpers/db.js';
import { admin, config, harness, SITE } from './helpers/http.js';

const hostile = (() => {
  const r = validateSiteConfig(
    config({
      variants: [
        {
          id: 'v',
          name: 'x',
          slots: { t: { text: '</script><script>alert(1)</script>\u2028\u2029 $& $1 "quoted" \\ end' } },
        },
      ],
    }),
  );
  if (!r.ok) throw new Error('fixture');
  return r.config;
})();

describe('embedding the config in the bundle', () => {
  it('makes a JS string literal with no "<" and no raw line separators, that parses back to the config', () => {
    const lit = configLiteral(hostile);
    expect(lit).not.toMatch(/[<\u2028\u2029]/);
    const json = runInNewContext(lit) as string;
    // The triggers stay on the server (test/trigger-public-config.test.ts).
    expect(JSON.parse(json)).toEqual(publicConfig(hostile));
  });

  it('replaces double- and single-quoted placeholders, and keeps "$" patterns literal', () => {
    const out = embedConfig(`a("${PLACEHOLDER}");b('${PLACEHOLDER}')`, hostile);
    expect(out).not.toContain(PLACEHOLDER);
    const got: string[] = [];
    runInNewContext(out, { a: (s: string) => got.push(s), b: (s: string) => got.push(s) });
    expect(got.map((s) => JSON.parse(s) as SiteConfig)).toEqual([publicConfig(hostile), publicConfig(hostile)]);
  });
});

describe.skipIf(!resolveSdkPath())('GET /v1/sdk.js with the built @cairn/sdk bundle', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('serves dist/cairn.js with the site config in place of the placeholder', async () => {
    const h = await harness(db, { sdkPath: undefined });
    await h.req('PUT', '/v1/config', { body: hostile, headers: admin });
    const res = await h.req('GET', `/v1/sdk.js?site=${SITE}`);
    expect(res.status).toBe(200);
    const js = await res.text();
    expect(js).not.toContain(PLACEHOLDER);
    expect(js).toContain(configLiteral(hostile));
    expect(js).not.toContain('</script>');
  });

  it('answers an unknown site 404, which no cache may keep: its config may be saved a moment later', async () => {
    const h = await harness(db, { sdkPath: undefined, defaultConfig: () => null });
    const res = await h.req('GET', '/v1/sdk.js?site=not-yet');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'unknown_site', field: 'site' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('serves every chunk the head names, and those they name, byte for byte, from beside it', async () => {
    const h = await harness(db, { sdkPath: undefined });
    await h.req('PUT', '/v1/config', { body: hostile, headers: admin });
    const named = (js: string) => js.match(/cairn-[a-z0-9-]+\.[0-9a-f]{8,64}\.js/g) ?? [];
    const names = [...new Set(named(await (await h.req('GET', `/v1/sdk.js?site=${SITE}`)).text()))];
    // The core names the prompts' UI, which it loads in turn from beside itself: the list grows.
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const res = await h.req('GET', new URL(name, `https://sync.example/v1/sdk.js?site=${SITE}`).pathname);
      expect(res.status, name).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.equals(readFileSync(join(dirname(resolveSdkPath()!), name))), name).toBe(true);
      names.push(...named(bytes.toString()).filter((n) => !names.includes(n)));
    }
    expect(names.map((n) => n.split('.')[0])).toEqual(['cairn-core', 'cairn-prompts']);
  });
});
