// A site config is sent to every visitor (embedded in sdk.js, fetched by the SDK): `$schema` is a URL
// of at most 2 KB and never embedded, and a config is at most 64 KB wherever it comes in (PUT, the
// console's check, --config at start, `cairn-server config validate`).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSiteConfig, type SiteConfigInput } from '@cairn/schema';
import { MAX_CONFIG_BYTES } from '../src/config/site-configs.js';
import { startServer, StartupError } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { admin, config, harness, type Harness } from './helpers/http.js';

const SCHEMA_URL = 'https://cdn.example/cairn/site-config.schema.json';

/** Under the limit as sent (55 KB), over it once the schema's defaults are filled in. */
function growsPastTheLimit(): SiteConfigInput {
  return {
    site: 'shop',
    prompts: Array.from({ length: 50 }, (_, i) => ({
      id: `p${i}`,
      kind: 'optin' as const,
      content: { title: 't', cta: 'c' },
    })),
    variants: Array.from({ length: 34 }, (_, i) => ({
      id: `v${i}`,
      name: 'n',
      slots: { s: { text: 'x'.repeat(1500) } },
    })),
  };
}

describe('$schema', () => {
  it('is a URL or a relative path of at most 2048 characters', () => {
    for (const ok of [
      SCHEMA_URL,
      '../../packages/schema/dist/site-config.schema.json',
      `https://x.example/${'a'.repeat(2000)}`,
    ])
      expect(validateSiteConfig({ site: 'shop', $schema: ok }).ok, ok.slice(0, 40)).toBe(true);
    for (const bad of [`https://x.example/${'a'.repeat(2048)}`, 'not a url', '', '<script>', 'a"b']) {
      const r = validateSiteConfig({ site: 'shop', $schema: bad });
      expect(r.ok, bad.slice(0, 40)).toBe(false);
      expect(new Set(r.ok ? [] : r.issues.map((i) => i.path))).toEqual(new Set(['$schema']));
    }
  });
});

describe.each(makeStores())('config limits over HTTP on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
  });
  afterAll(() => db.cleanup());

  it('refuses a 900 KB $schema with a 413 before reading it, and a 3 KB one with a 400 naming $schema', async () => {
    const huge = await h.req('PUT', '/v1/config', {
      body: config({ $schema: `https://x.example/${'a'.repeat(900_000)}` }),
      headers: admin,
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { message: string }).message).toContain(String(MAX_CONFIG_BYTES));
    const long = await h.req('PUT', '/v1/config', {
      body: config({ $schema: `https://x.example/${'a'.repeat(3000)}` }),
      headers: admin,
    });
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ error: 'invalid_config', field: '$schema' });
  });

  it('keeps $schema out of sdk.js, and in the config the editor reads', async () => {
    expect((await h.req('PUT', '/v1/config', { body: config({ $schema: SCHEMA_URL }), headers: admin })).status).toBe(
      200,
    );
    const sdk = await (await h.req('GET', '/v1/sdk.js?site=shop')).text();
    expect(sdk).toContain('Pinterest');
    expect(sdk).not.toContain('site-config.schema.json');
    expect(sdk).not.toContain('$schema');
    expect(((await (await h.req('GET', '/v1/config?site=shop')).json()) as { $schema?: string }).$schema).toBe(
      SCHEMA_URL,
    );
  });

  it('refuses a config over 64 KB once its defaults are filled in, with a 400 naming the limit', async () => {
    const input = growsPastTheLimit();
    const r = validateSiteConfig(input);
    expect(r.ok).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(input))).toBeLessThan(MAX_CONFIG_BYTES);
    expect(Buffer.byteLength(JSON.stringify(r.ok && r.config))).toBeGreaterThan(MAX_CONFIG_BYTES);
    const before = await h.snapshot();
    const res = await h.req('PUT', '/v1/config', { body: input, headers: admin });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain(`${MAX_CONFIG_BYTES} bytes`);
    expect(await h.snapshot()).toEqual(before);

    const check = await h.req('POST', '/console/api/validate', { body: input, headers: admin });
    expect(((await check.json()) as { ok: boolean; issues: { message: string }[] }).issues[0]?.message).toContain(
      `${MAX_CONFIG_BYTES} bytes`,
    );
  });

  it("the console's check takes no more than PUT does", async () => {
    const res = await h.req('POST', '/console/api/validate', {
      raw: JSON.stringify(config({ $schema: `https://x.example/${'a'.repeat(MAX_CONFIG_BYTES)}` })),
      headers: { ...admin, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
  });
});

describe('config limits at start and in the CLI', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('--config: a config over 64 KB stops the start, naming the limit', async () => {
    const started = startServer({
      port: 0,
      db: db.options.sqlitePath as string,
      logger: false,
      config: growsPastTheLimit(),
    });
    await expect(started).rejects.toBeInstanceOf(StartupError);
    await expect(started).rejects.toThrow(`${MAX_CONFIG_BYTES} bytes`);
  });

  it('config validate: exit 1 naming the limit; $schema as a long string too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-limits-'));
    const big = join(dir, 'big.json');
    writeFileSync(big, JSON.stringify(growsPastTheLimit()));
    const r = runCli(['config', 'validate', big]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${MAX_CONFIG_BYTES} bytes`);
    const schema = join(dir, 'schema.json');
    writeFileSync(schema, JSON.stringify({ site: 'shop', $schema: 'x'.repeat(5000) }));
    const s = runCli(['config', 'validate', schema]);
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/^\$schema: /);
  });
});
