// The README's server commands run the repo's own build, from the repo root, without asking the npm
// registry: `npx cairn-server` would look the name up there, and run whatever a stranger publishes
// under it. The registry is pointed at a closed port, so a command that touched it would fail.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(new URL('README.md', `file://${ROOT}`), 'utf8');

/** Runs a documented command line (no shell: the words split on spaces) from the repo root, offline. */
function run(commandLine: string) {
  const [cmd, ...args] = commandLine.split(/\s+/);
  const r = spawnSync(cmd as string, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      npm_config_registry: 'http://127.0.0.1:9',
      npm_config_fetch_retries: '0',
      npm_config_update_notifier: 'false',
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the README server commands', () => {
  it('say `npm run server --`, never `npx cairn-server`', () => {
    expect(README).not.toMatch(/npx\s+cairn-server/);
    const documented = README.match(/npm run server -- [^\n`#]*/g) ?? [];
    expect(documented.length).toBeGreaterThanOrEqual(4);
    const scripts = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.server).toBe('node packages/server/dist/cli.js');
  });

  /** The README's own line for a command, without its comment. */
  const documented = (command: RegExp) => {
    const line = README.split('\n').find((l) => command.test(l));
    expect(line, String(command)).toBeDefined();
    return (line as string).replace(/#.*$/, '').trim();
  };

  it('`config validate` on the demo config, as documented, works from the repo root without the registry', () => {
    const r = run(documented(/^npm run server -- config validate examples\//));
    expect(r.stderr).not.toMatch(/E404|ECONNREFUSED|registry/i);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('ok');
  });

  it('`--help`, as documented, works from the repo root without the registry', () => {
    const r = run(documented(/^npm run server -- --help/));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('cairn-server [options]');
  });

  it('the registry really is out of reach here: the old `npx cairn-server` fails, asking it for the name', () => {
    const r = run('npx --yes cairn-server --help');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ECONNREFUSED|127\.0\.0\.1:9/);
  });
});
