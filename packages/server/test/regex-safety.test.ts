import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostics } from 'recheck';
import { validateSiteConfig, type SiteConfig, type SiteConfigInput } from '@cairn/schema';
import { createRegexSafety, regexConditions, regexSafety } from '../src/config/regex-safety.js';
import { startServer, StartupError } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { admin, config, harness, SITE, type Harness } from './helpers/http.js';

const EVIL = '/^(a+)+$/';
const FINE = '/^pin(terest)?$/i';

const variant = (when: Record<string, unknown>, id = 'v') => ({
  id,
  name: id,
  when,
  slots: { 'hero-title': { text: 'x' } },
});

function valid(input: SiteConfigInput): SiteConfig {
  const r = validateSiteConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const safe = (source: string, flags = ''): Diagnostics => ({
  source,
  flags,
  status: 'safe',
  checker: 'automaton',
  complexity: { type: 'safe', summary: 'safe', isFuzz: false },
});

describe('regexConditions', () => {
  it('finds each "/pattern/flags" of every matcher field, by the path the schema\'s issues use', () => {
    const c = valid(
      config({
        variants: [
          variant({ source: 'pinterest', campaign: ['spring', '/^sale_\\d+$/gi'] }, 'a'),
          variant({ channel: '/^paid/i', medium: '/cpc/', content: ['/x/y', 'plain'] }, 'b'),
        ],
      }),
    );
    expect(regexConditions(c)).toEqual([
      { path: 'variants.0.when.campaign.1', literal: '/^sale_\\d+$/gi', source: '^sale_\\d+$', flags: 'i' },
      { path: 'variants.1.when.channel', literal: '/^paid/i', source: '^paid', flags: 'i' },
      { path: 'variants.1.when.medium', literal: '/cpc/', source: 'cpc', flags: '' },
      { path: 'variants.1.when.content.0', literal: '/x/y', source: 'x', flags: '' },
    ]);
  });
});

describe('the ReDoS check with recheck', () => {
  it(`refuses ${EVIL} as exponential, naming where it is and an input that triggers it`, async () => {
    const issues = await regexSafety.unsafeRegexes(
      valid(config({ variants: [variant({ campaign: ['spring', EVIL] })] })),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('variants.0.when.campaign.1');
    expect(issues[0]?.message).toMatch(
      /^the regex \/\^\(a\+\)\+\$\/ is open to ReDoS: matching takes exponential time on input such as "a+/,
    );
  });

  it('refuses a polynomial one too, saying its degree', async () => {
    const issues = await regexSafety.unsafeRegexes(valid(config({ variants: [variant({ source: '/.*sale.*/i' })] })));
    expect(issues.map((i) => i.path)).toEqual(['variants.0.when.source']);
    expect(issues[0]?.message).toMatch(/2nd degree polynomial time/);
  });

  it('refuses what the SDK would refuse in the browser, though recheck passes it: a saved config is one every browser runs', async () => {
    // A repeated alternation: recheck sees no overlap, the SDK's guard refuses repeated groups of choices.
    const issues = await regexSafety.unsafeRegexes(
      valid(config({ variants: [variant({ campaign: '/^(spring|summer)+$/' })] })),
    );
    expect(issues.map((i) => i.path)).toEqual(['variants.0.when.campaign']);
    expect(issues[0]?.message).toMatch(/refused by the SDK in the browser \(nested quantifier\)/);
  });

  it(`accepts ${FINE} and the usual anchored alternatives`, async () => {
    const c = valid(
      config({
        variants: [
          variant({ source: [FINE, '/^(fb|facebook|ig)$/i'], campaign: '/^spring_\\d{4}$/', channel: '/^paid/i' }),
        ],
      }),
    );
    expect(await regexSafety.unsafeRegexes(c)).toEqual([]);
  });
});

describe('createRegexSafety: bounded and remembered', () => {
  const many = valid(config({ variants: [variant({ source: ['/a/', '/b/', '/c/'] })] }));

  it('past its budget, refuses the regexes left unchecked, without analysing them', async () => {
    let clock = 0;
    let analysed = 0;
    const checker = createRegexSafety({
      now: () => clock,
      budgetMs: 10_000,
      analyse: async (source, flags, timeoutMs) => {
        analysed++;
        expect(timeoutMs).toBeLessThanOrEqual(3000);
        clock += 6000; // each analysis uses 6 s of the budget
        return safe(source, flags);
      },
    });
    const issues = await checker.unsafeRegexes(many);
    expect(analysed).toBe(2);
    expect(issues).toEqual([
      {
        path: 'variants.0.when.source.2',
        message: expect.stringMatching(
          /^the regex \/c\/ could not be proven safe from ReDoS \(the check ran out of time\)/,
        ),
      },
    ]);
  });

  it('an analysis that gives up is refused, and tried again next time; a verdict is remembered', async () => {
    let analysed = 0;
    let giveUp = true;
    const checker = createRegexSafety({
      analyse: async (source, flags) => {
        analysed++;
        if (source === 'c' && giveUp)
          return { source, flags, status: 'unknown', error: { kind: 'unsupported', message: 'too hard' } };
        return safe(source, flags);
      },
    });
    expect((await checker.unsafeRegexes(many)).map((i) => i.message)).toEqual([
      expect.stringContaining('could not be proven safe from ReDoS (unsupported: too hard)'),
    ]);
    expect(analysed).toBe(3);
    giveUp = false;
    expect(await checker.unsafeRegexes(many)).toEqual([]);
    expect(analysed).toBe(4);
    expect(await checker.unsafeRegexes(many)).toEqual([]);
    expect(analysed).toBe(4);
  });
});

describe.each(makeStores())('PUT /v1/config refuses ReDoS on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
  });
  afterAll(() => db.cleanup());

  it(`refuses ${EVIL} with 400 invalid_config naming the condition, and saves nothing`, async () => {
    const before = await h.snapshot();
    const res = await h.req('PUT', '/v1/config', {
      body: config({ variants: [variant({ source: 'pinterest', campaign: EVIL })] }),
      headers: admin,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; field: string; message: string; issues: { path: string }[] };
    expect(body.error).toBe('invalid_config');
    expect(body.field).toBe('variants.0.when.campaign');
    expect(body.message).toMatch(
      /^variants\.0\.when\.campaign: the regex \/\^\(a\+\)\+\$\/ is open to ReDoS: matching takes exponential time/,
    );
    expect(body.issues.map((i) => i.path)).toEqual(['variants.0.when.campaign']);
    expect(await h.snapshot()).toEqual(before);
  });

  it(`accepts ${FINE}`, async () => {
    const res = await h.req('PUT', '/v1/config', {
      body: config({ variants: [variant({ source: FINE })] }),
      headers: admin,
    });
    expect(res.status).toBe(200);
    expect(
      ((await (await h.req('GET', `/v1/config?site=${SITE}`)).json()) as SiteConfig).variants[0]?.when.source,
    ).toBe(FINE);
  });

  it("the console's live check says the same", async () => {
    const check = async (input: SiteConfigInput) =>
      (await (await h.req('POST', '/console/api/validate', { raw: JSON.stringify(input), headers: admin })).json()) as {
        ok: boolean;
        issues: { path: string }[];
      };
    expect(await check(config({ variants: [variant({ medium: ['cpc', EVIL] })] }))).toMatchObject({
      ok: false,
      issues: [{ path: 'variants.0.when.medium.1' }],
    });
    expect(await check(config({ variants: [variant({ medium: FINE })] }))).toEqual({ ok: true, issues: [] });
  });
});

describe('the CLI and start-up refuse ReDoS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-redos-'));
  const evilFile = join(dir, 'evil.json');
  writeFileSync(
    evilFile,
    JSON.stringify([config(), config({ site: 'other', variants: [variant({ campaign: EVIL })] })]),
  );
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('config validate prints the located problem and exits non-zero', () => {
    const r = runCli(['config', 'validate', evilFile]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^1\.variants\.0\.when\.campaign: the regex \/\^\(a\+\)\+\$\/ is open to ReDoS: matching takes exponential time/,
    );
  });

  it('config validate accepts a safe regex', () => {
    const r = runCli([
      'config',
      'validate',
      (writeFileSync(join(dir, 'fine.json'), JSON.stringify(config({ variants: [variant({ source: FINE })] }))),
      join(dir, 'fine.json')),
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('startServer refuses to seed it, with a clear error and nothing stored', async () => {
    const sqlitePath = (db.options as { sqlitePath: string }).sqlitePath;
    const err = await startServer({ port: 0, db: sqlitePath, config: evilFile, logger: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartupError);
    expect(existsSync(sqlitePath)).toBe(false);
    expect((err as Error).message).toMatch(
      /^.*evil\.json: invalid site config: 1\.variants\.0\.when\.campaign: the regex \/\^\(a\+\)\+\$\/ is open to ReDoS/,
    );
    const cli = runCli(['--config', evilFile, '--db', join(dir, 'cli.db'), '--port', '0']);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(
      /^cairn-server: .*evil\.json: invalid site config: 1\.variants\.0\.when\.campaign: the regex .* exponential/,
    );
  });
});
