// SQLite-only behaviour that needs real processes: migrations racing across processes, and no
// acknowledged write lost when the process is killed with SIGKILL mid-stream.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, StoreError } from '../src/store/index.js';
import { sqliteMigrations } from '../src/store/migrations.js';

const serverDir = fileURLToPath(new URL('..', import.meta.url));
const storeUrl = pathToFileURL(join(serverDir, 'src/store/index.ts')).href;
const tmp = mkdtempSync(join(tmpdir(), 'cairn-sqlite-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Child processes run the same TypeScript sources as the tests, transpiled once here (no build step)
// and served to them by a tiny module hook, so each child starts without loading TypeScript itself.
const compiled: Record<string, string> = {};
for (const dir of ['src/store', 'src/reports', 'src']) {
  for (const f of readdirSync(join(serverDir, dir)).filter(
    (n) => n.endsWith('.ts') && (dir !== 'src' || n === 'profile.ts'),
  )) {
    const file = join(serverDir, dir, f);
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    compiled[pathToFileURL(file).href] = out.outputText;
  }
}
const hooks = join(tmp, 'ts-hooks.mjs');
writeFileSync(
  hooks,
  `const compiled = ${JSON.stringify(compiled)};
export async function resolve(spec, ctx, next) {
  if (spec.startsWith('.') && spec.endsWith('.js') && ctx.parentURL in compiled) {
    const url = new URL(spec.slice(0, -3) + '.ts', ctx.parentURL).href;
    if (url in compiled) return { url, shortCircuit: true };
  }
  return next(spec, ctx);
}
export async function load(url, ctx, next) {
  return url in compiled ? { format: 'module', source: compiled[url], shortCircuit: true } : next(url, ctx);
}
`,
);
const register = join(tmp, 'register.mjs');
writeFileSync(
  register,
  `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
);

/** Runs `code` (an ES module body with `openStore` in scope) in a new Node process. */
function child(code: string, env: Record<string, string>): ChildProcess {
  const body = `const { openStore } = await import(${JSON.stringify(storeUrl)});\n${code}`;
  return spawn(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', body], {
    cwd: serverDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(p: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => p.on('exit', (code) => res({ code, stderr })));
}

function lines(p: ChildProcess, onLine: (line: string) => void): void {
  createInterface({ input: p.stdout! }).on('line', onLine);
}

describe('sqlite store across processes', () => {
  it('applies migrations once when several processes start together', async () => {
    const db = join(tmp, 'race', 'cairn.db');
    // Hold the write lock while the processes start, then let them all go at once.
    const holder = await openStore({ sqlitePath: db, migrate: false });
    const raw = new Database(db);
    raw.exec('BEGIN IMMEDIATE');
    const procs = [1, 2, 3, 4].map(() =>
      child(
        `console.log('ready'); const s = await openStore({ sqlitePath: process.env.DB }); await s.close(); console.log('done');`,
        { DB: db },
      ),
    );
    const results = procs.map(exited);
    const out = procs.map(() => [] as string[]);
    await Promise.all(
      procs.map(
        (p, i) =>
          new Promise<void>((res, rej) => {
            lines(p, (l) => (out[i]!.push(l), l === 'ready' && res()));
            p.on('exit', () => rej(new Error(`child ${i} exited before it was ready: ${out[i]!.join(' ')}`)));
          }),
      ),
    );
    // Give them a moment to reach the lock; a late one only makes the race smaller, never wrong.
    await new Promise((r) => setTimeout(r, 300));
    raw.exec('ROLLBACK');
    for (const r of await Promise.all(results)) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect(out.map((o) => o.at(-1))).toEqual(['done', 'done', 'done', 'done']);
    const versions = raw.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions).toEqual(sqliteMigrations.map((m) => m.version));
    raw.close();
    await holder.close();
  });

  it('loses no acknowledged write when the process is killed with SIGKILL', async () => {
    const db = join(tmp, 'kill', 'cairn.db');
    const p = child(
      `const s = await openStore({ sqlitePath: process.env.DB });
       for (let b = 0; ; b++) {
         const events = Array.from({ length: 20 }, (_, i) => ({ id: 'kill-' + String(b).padStart(6, '0') + '-' + i, type: 'page', at: b * 100 + i, path: '/p' }));
         await s.ingest('shop', 'device-kill-1', events, 'h');
         process.stdout.write('ack ' + b + '\\n');
       }`,
      { DB: db },
    );
    const done = exited(p);
    const acked: number[] = [];
    await new Promise<void>((res, rej) => {
      p.on('exit', () => rej(new Error(`the writer exited after ${acked.length} batches`)));
      lines(p, (l) => {
        const m = /^ack (\d+)$/.exec(l);
        if (m) acked.push(Number(m[1]));
        if (acked.length === 40) {
          p.kill('SIGKILL');
          res();
        }
      });
    });
    const { code } = await done;
    expect(code).toBeNull(); // killed, not exited
    expect(existsSync(`${db}-wal`)).toBe(true);

    const store = await openStore({ sqlitePath: db });
    const raw = new Database(db, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const stored = new Set(raw.prepare("SELECT id FROM events WHERE site = 'shop'").pluck().all() as string[]);
    raw.close();
    for (const b of acked) {
      for (let i = 0; i < 20; i++) expect(stored.has(`kill-${String(b).padStart(6, '0')}-${i}`)).toBe(true);
    }
    // Batches are whole: every stored batch has all of its 20 events.
    const perBatch = new Map<string, number>();
    for (const id of stored) perBatch.set(id.slice(0, 11), (perBatch.get(id.slice(0, 11)) ?? 0) + 1);
    expect([...perBatch.values()].every((n) => n === 20)).toBe(true);
    expect((await store.profile('shop', 'device-kill-1')).pageViews.length).toBeGreaterThan(0);
    await store.close();
  });
});

describe('opening a sqlite store', () => {
  it('creates the directory and uses WAL with synchronous NORMAL', async () => {
    const path = join(tmp, 'a', 'b', 'c', 'cairn.db');
    const store = await openStore({ sqlitePath: path });
    await store.ping();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    await store.close();
  });

  it('rejects with a one-line StoreError when the path cannot be written', async () => {
    const file = join(tmp, 'plain-file');
    writeFileSync(file, 'not a directory');
    const err = await openStore({ sqlitePath: join(file, 'cairn.db') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('unavailable');
    expect((err as Error).message).toContain(join(file, 'cairn.db'));
    expect((err as Error).message).not.toContain('\n');
  });

  it('rejects a file that is not a database', async () => {
    const file = join(tmp, 'garbage.db');
    writeFileSync(file, 'x'.repeat(4096));
    const err = await openStore({ sqlitePath: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/not a database/);
  });
});
