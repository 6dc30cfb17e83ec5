// Site configs and traits: the regexes of traits matchers (variants' when.traits, prompts'
// audience.traits, triggers' where.traits) get the same ReDoS check as the touch matchers; a config
// with triggers is refused unless the site has a webhook secret to sign them with.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSiteConfig, type SiteConfig, type SiteConfigInput, type TraitsMatcher } from '@cairn/schema';
import { regexConditions } from '../src/config/regex-safety.js';
import { startServer, StartupError } from '../src/server.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { admin, config, harness, type Harness } from './helpers/http.js';

const EVIL = '/^(a+)+$/';
const FINE = '/^(gold|vip)$/i';
const SECRET = 'test-webhook-secret-0123456789abcdefghij';

type TriggerInput = NonNullable<SiteConfigInput['triggers']>[number];
const trigger = (over: Partial<TriggerInput> = {}): TriggerInput => ({
  id: 'browse',
  on: 'browse_abandoned',
  after: '2h',
  channels: ['email'],
  url: 'https://hooks.example.com/cairn',
  ...over,
});
const variant = (traits: TraitsMatcher) => ({
  id: 'v',
  name: 'v',
  when: { traits },
  slots: { 'hero-title': { text: 'x' } },
});
const prompt = (traits: TraitsMatcher) => ({
  id: 'p',
  kind: 'optin',
  content: { title: 't', cta: 'c' },
  audience: { traits },
});

function valid(input: SiteConfigInput): SiteConfig {
  const r = validateSiteConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

describe('regexConditions: traits matchers', () => {
  it('finds the regexes of when.traits, audience.traits and where.traits, by path, and nothing else', () => {
    const c = valid(
      config({
        variants: [variant({ tier: ['gold', '/^vip/i', 3, true], company: '/acme/', orders: 2 })],
        prompts: [prompt({ segment: '/^b2b$/' })] as SiteConfigInput['prompts'],
        triggers: [trigger(), trigger({ id: 'vip', where: { traits: { lapsed: false, tier: ['/x+y/', 'plain'] } } })],
      }),
    );
    expect(regexConditions(c).filter((r) => r.path.includes('.traits.'))).toEqual([
      { path: 'variants.0.when.traits.tier.1', literal: '/^vip/i', source: '^vip', flags: 'i' },
      { path: 'variants.0.when.traits.company', literal: '/acme/', source: 'acme', flags: '' },
      { path: 'prompts.0.audience.traits.segment', literal: '/^b2b$/', source: '^b2b$', flags: '' },
      { path: 'triggers.1.where.traits.tier.0', literal: '/x+y/', source: 'x+y', flags: '' },
    ]);
  });
});

describe.each(makeStores())('PUT /v1/config with traits and triggers on $name', (db: TestDb) => {
  let h: Harness;
  let noSecret: Harness;
  beforeAll(async () => {
    h = await harness(db, { siteKeys: { sites: { shop: { webhookSecret: SECRET } } } });
    noSecret = await harness(db);
  });
  afterAll(() => db.cleanup());

  const cases: [string, SiteConfigInput, string][] = [
    ['a variant', config({ variants: [variant({ tier: EVIL })] }), 'variants.0.when.traits.tier'],
    [
      'a prompt',
      config({ prompts: [prompt({ tier: ['gold', EVIL] })] as SiteConfigInput['prompts'] }),
      'prompts.0.audience.traits.tier.1',
    ],
    [
      'a trigger',
      config({ triggers: [trigger({ where: { traits: { company: EVIL } } })] }),
      'triggers.0.where.traits.company',
    ],
  ];
  it.each(cases)(
    `refuses ${EVIL} in %s's traits with 400 naming the field, and saves nothing`,
    async (_what, body, path) => {
      const before = await h.snapshot();
      const res = await h.req('PUT', '/v1/config', { body, headers: admin });
      expect(res.status).toBe(400);
      const error = (await res.json()) as { error: string; field: string; message: string };
      expect(error).toMatchObject({ error: 'invalid_config', field: path });
      expect(error.message).toMatch(/is open to ReDoS: matching takes exponential time .*a trait value/);
      expect(await h.snapshot()).toEqual(before);
    },
  );

  it(`accepts ${FINE} in all three`, async () => {
    const body = config({
      variants: [variant({ tier: FINE })],
      prompts: [prompt({ tier: FINE })] as SiteConfigInput['prompts'],
      triggers: [trigger({ where: { traits: { tier: FINE } } })],
    });
    expect((await h.req('PUT', '/v1/config', { body, headers: admin })).status).toBe(200);
  });

  it('refuses triggers for a site without a webhook secret: 400 naming triggers and the variables', async () => {
    const site = 'nosecret';
    const before = await noSecret.snapshot();
    const res = await noSecret.req('PUT', '/v1/config', {
      body: config({ site, triggers: [trigger()] }),
      headers: admin,
    });
    expect(res.status).toBe(400);
    const error = (await res.json()) as { error: string; field: string; message: string };
    expect(error).toMatchObject({ error: 'invalid_config', field: 'triggers' });
    expect(error.message).toContain('CAIRN_WEBHOOK_SECRET');
    expect(error.message).toContain('CAIRN_SITE_NOSECRET_WEBHOOK_SECRET');
    expect(await noSecret.snapshot()).toEqual(before);
    // Without triggers, the same site saves; with another site's secret only, it does not.
    expect((await noSecret.req('PUT', '/v1/config', { body: config({ site }), headers: admin })).status).toBe(200);
    expect(
      (await h.req('PUT', '/v1/config', { body: config({ site, triggers: [trigger()] }), headers: admin })).status,
    ).toBe(400);
    expect((await h.req('PUT', '/v1/config', { body: config({ triggers: [trigger()] }), headers: admin })).status).toBe(
      200,
    );
  });
});

describe('start-up: seeded triggers need a webhook secret', () => {
  const db = sqliteDb();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-traits-config-'));
  const file = join(dir, 'site.json');
  writeFileSync(file, JSON.stringify(config({ triggers: [trigger()] })));
  afterAll(() => db.cleanup());

  it('refuses to seed them without one, naming the variables, with nothing opened', async () => {
    const sqlitePath = join(dir, 'refused.db');
    const err = await startServer({ port: 0, db: sqlitePath, config: file, logger: false, triggers: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/site "shop" has triggers but no webhook secret.*CAIRN_WEBHOOK_SECRET/);
    expect(existsSync(sqlitePath)).toBe(false);
  });

  it('seeds them with CAIRN_WEBHOOK_SECRET (webhookSecret), or the keys file entry', async () => {
    for (const opts of [{ webhookSecret: SECRET }, { siteKeys: { sites: { shop: { webhookSecret: SECRET } } } }]) {
      const running = await startServer({
        port: 0,
        db: db.options.sqlitePath!,
        config: file,
        logger: false,
        triggers: false,
        ...opts,
      });
      try {
        expect((await running.store.getConfig('shop'))?.config.triggers).toHaveLength(1);
      } finally {
        await running.close();
      }
    }
  });
});
