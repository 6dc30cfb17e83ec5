// Spawning the built CLI (dist/cli.js) for the process-level suites.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (bounded by `timeout` ms, a hang is a failure). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeout = 30_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Running {
  proc: ChildProcess;
  url: string;
  /** stderr so far, for failure messages. */
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the server and resolves once it logs its URL; rejects if it exits first. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): Promise<Running> {
  const proc = spawn(process.execPath, [CLI, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((ok) => proc.once('exit', (code) => ok(code)));
  return new Promise((ok, fail) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      try {
        const j = JSON.parse(line) as { msg?: string; url?: string };
        if (j.msg === 'listening' && j.url) ok({ proc, url: j.url, stderr: () => err, exited });
      } catch {
        /* not a log line */
      }
    });
    void exited.then((code) => fail(new Error(`cairn-server exited (${code}) before listening: ${err}`)));
  });
}
