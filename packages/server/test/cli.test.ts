import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyIdentity } from '../src/identity/identity-token.js';
import { runCli, startCli, type CliResult } from './helpers/cli.js';
import { sqliteDb } from './helpers/db.js';
import { config, ORIGIN } from './helpers/http.js';

const dir = mkdtempSync(join(tmpdir(), 'cairn-cli-'));
const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};
const badConfig = file(
  'bad.json',
  config({
    variants: [
      { id: 'a', name: 'a', slots: { x: { text: 'x' } } },
      { id: 'b', name: 'b', slots: { x: { text: 'x' } } },
      { id: 'c', name: 'c', slots: { 'hero-title': { href: 'javascript:alert(1)' } } },
    ],
  }),
);
const goodConfig = file('good.json', config());

/** One line on stderr, no stack trace, non-zero exit. */
function expectOneLineFailure(r: CliResult): string {
  expect(r.status).not.toBe(0);
  expect(r.status).not.toBeNull();
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(lines[0]).toMatch(/^cairn-server: /);
  return lines[0] as string;
}

describe('cairn-server CLI', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('fails with one line on an unreachable DATABASE_URL', () => {
    const line = expectOneLineFailure(
      runCli([], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x', CAIRN_SERVER_PORT: '0' }),
    );
    expect(line).toMatch(/database/i);
    expect(line).toMatch(/127\.0\.0\.1:1/);
  });

  it('never prints a database password', () => {
    const line = expectOneLineFailure(
      runCli([], { DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/x', CAIRN_SERVER_PORT: '0' }),
    );
    expect(line).not.toContain('hunter2');
  });

  it('fails with one located line on an invalid --config', () => {
    const line = expectOneLineFailure(runCli(['--config', badConfig, '--db', join(dir, 'x.db'), '--port', '0']));
    expect(line).toContain('variants.2.slots.hero-title.href: only http(s) or relative URLs are allowed');
  });

  it('fails with one line on bad flags, unreadable files and malformed JSON', () => {
    expect(expectOneLineFailure(runCli(['--bogus']))).toMatch(/--bogus/);
    expect(expectOneLineFailure(runCli(['--port', 'eighty']))).toMatch(/--port/);
    expect(expectOneLineFailure(runCli(['--origins', 'not a url']))).toMatch(/--origins/);
    expect(expectOneLineFailure(runCli(['--config', join(dir, 'missing.json'), '--port', '0']))).toMatch(
      /missing\.json/,
    );
    expect(expectOneLineFailure(runCli(['--config', file('broken.json', '{"site":'), '--port', '0']))).toMatch(
      /not valid JSON/,
    );
    expect(expectOneLineFailure(runCli(['--db', '/dev/null/x.db', '--port', '0']))).toMatch(/database/);
  });

  it('config validate prints every located error and exits 1, or prints ok', () => {
    const bad = runCli(['config', 'validate', badConfig]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('variants.2.slots.hero-title.href: only http(s) or relative URLs are allowed');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const good = runCli(['config', 'validate', goodConfig]);
    expect(good).toMatchObject({ status: 0, stdout: 'ok\n' });
  });

  it('sign prints a token the server verifies', () => {
    const r = runCli(['sign', '--user', 'alice', '--site', 'shop', '--ttl', '60'], {
      CAIRN_IDENTITY_SECRET: 'cli-secret',
    });
    expect(r.status).toBe(0);
    const token = r.stdout.trim();
    expect(verifyIdentity(token, { secret: 'cli-secret', site: 'shop', userId: 'alice' }).ok).toBe(true);
    expect(verifyIdentity(token, { secret: 'other', site: 'shop', userId: 'alice' }).ok).toBe(false);
    expect(
      expectOneLineFailure(runCli(['sign', '--user', 'alice', '--site', 'shop'], { CAIRN_IDENTITY_SECRET: '' })),
    ).toMatch(/CAIRN_IDENTITY_SECRET/);
  });

  it('--help prints the usage', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    for (const flag of [
      '--port',
      '--db',
      'DATABASE_URL',
      '--config',
      'CAIRN_ADMIN_KEY',
      'CAIRN_IDENTITY_SECRET',
      '--origins',
      'sign',
      'config validate',
    ])
      expect(r.stdout).toContain(flag);
  });

  it('starts on SQLite with no setup, seeds --config, serves, and stops on SIGTERM', async () => {
    const s = await startCli(['--db', db.options.sqlitePath as string, '--config', goodConfig], {
      CAIRN_ORIGINS: 'http://localhost:3000',
    });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ ok: true, store: 'sqlite' });
      const cfg = await fetch(`${s.url}/v1/config?site=shop`);
      expect(((await cfg.json()) as { origins: string[] }).origins).toEqual([ORIGIN]);
      const pre = await fetch(`${s.url}/v1/identify`, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
      });
      expect(pre.status).toBe(204);
      // The seeded config's own origin passes a preflight that names no site, before anything loaded it.
      const seeded = await fetch(`${s.url}/v1/collect`, {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
      });
      expect(seeded.status).toBe(204);
    } finally {
      s.proc.kill('SIGTERM');
    }
    expect(await s.exited).toBe(0);
  });
});
