// The SDK chunks' archive: every instance keeps its build's chunks in the database (at start, then
// daily), and any instance serves a chunk its own build lacks from there, for 30 days after the last
// instance shipping it was seen: a head served by an old instance during a rolling deploy still
// loads its core from a new one, after a restart too, and a long-lived tab its prompts' UI.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createApp } from '../src/app.js';
import type { AppCtx, Env } from '../src/context.js';
import { HttpError } from '../src/errors.js';
import type { Log } from '../src/log.js';
import { sdkRoutes } from '../src/routes/sdk.js';
import {
  archiveSdkChunks,
  CHUNK_NAME,
  createSdkChunks,
  SDK_ARCHIVE_INTERVAL_MS,
  SDK_CHUNK_DAYS,
  type SdkChunk,
  startSdkArchive,
} from '../src/sdk/sdk-chunks.js';
import { startServer } from '../src/server.js';
import { StoreError } from '../src/store/errors.js';
import type { SdkChunkFile, Store } from '../src/store/types.js';
import { atSchemaVersion, makeStores, PG_TEST_URL, postgresDb, sqliteDb, type TestDb } from './helpers/db.js';
import { harness } from './helpers/http.js';

const DAY = 86_400_000;
const tmp = mkdtempSync(join(tmpdir(), 'cairn-archive-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A chunk's file name as the SDK's build makes it: the first 12 hex digits of its bytes' sha-256. */
const named = (prefix: string, code: string) =>
  `${prefix}.${createHash('sha256').update(code).digest('hex').slice(0, 12)}.js`;
const etagOf = (code: string) => `"${createHash('sha256').update(code).digest('base64url').slice(0, 22)}"`;
const text = (bytes: Uint8Array | null) => (bytes ? new TextDecoder().decode(bytes) : null);

let builds = 0;
/** A dist/ folder of one build: cairn.js, and its chunks beside it. Returns the path of cairn.js. */
function dist(files: Record<string, string>): string {
  const dir = join(tmp, `build-${++builds}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'cairn.js'), '!function(){var c="__CAIRN_EMBEDDED_CONFIG__"}();');
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return join(dir, 'cairn.js');
}

/** A fresh database of the same kind. */
const another = (db: TestDb): TestDb => (db.name === 'sqlite' ? sqliteDb() : postgresDb());

/** startServer's options for this database. */
const serverDb = (db: TestDb) =>
  db.name === 'sqlite'
    ? { db: db.options.sqlitePath as string }
    : { databaseUrl: db.options.databaseUrl as string, pgSchema: db.options.pgSchema as string };

/** A logger that keeps its lines. */
function capture(): Log & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, ...(msg ? { msg } : {}) }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, ...(msg ? { msg } : {}) }),
    error: (obj, msg) => lines.push({ level: 'error', obj, ...(msg ? { msg } : {}) }),
  };
}

const OLD_CORE = 'window.__core = "the previous build";';
const NEW_CORE = 'window.__core = "the new build";';
const PROMPTS = 'window.__prompts = "the same in both builds";';

describe.each(makeStores())('the SDK chunks archive on $name', (db: TestDb) => {
  afterAll(() => db.cleanup());

  it('an instance serves a chunk its build lacks when another instance (another dist, same database) kept it at start', async () => {
    // The previous build's instance, started as in production: it keeps its chunks at start.
    const oldDist = dist({ [named('cairn-core', OLD_CORE)]: OLD_CORE, [named('cairn-prompts', PROMPTS)]: PROMPTS });
    const oldInstance = await startServer({
      port: 0,
      ...serverDb(db),
      logger: false,
      sdkPath: oldDist,
      triggers: false,
    });
    // The new build's instance: a fresh process (nothing in memory), a dist without the old core.
    const h = await harness(db, {
      sdkPath: dist({ [named('cairn-core', NEW_CORE)]: NEW_CORE, [named('cairn-prompts', PROMPTS)]: PROMPTS }),
    });
    try {
      const path = `/v1/${named('cairn-core', OLD_CORE)}`;
      // Kept after the current tick: until then the new instance has no such chunk.
      await expect.poll(async () => (await h.req('GET', path)).status).toBe(200);
      const res = await h.req('GET', path);
      expect(await res.text()).toBe(OLD_CORE);
      expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(res.headers.get('etag')).toBe(etagOf(OLD_CORE));
      const again = await h.req('GET', path, { headers: { 'if-none-match': etagOf(OLD_CORE) } });
      expect(again.status).toBe(304);
      // Its own build's chunk, from its dist as before; a chunk nobody shipped is still 404.
      expect(await (await h.req('GET', `/v1/${named('cairn-core', NEW_CORE)}`)).text()).toBe(NEW_CORE);
      expect((await h.req('GET', `/v1/${named('cairn-core', 'never built')}`)).status).toBe(404);
    } finally {
      await oldInstance.close();
    }
    // After a restart (a new app, nothing in memory) too, with the old instance gone.
    const restarted = await harness(db, { sdkPath: dist({}) });
    const res = await restarted.req('GET', `/v1/${named('cairn-core', OLD_CORE)}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(OLD_CORE);
  });

  it('keeps a name’s first bytes, and only moves its last sighting forward', async () => {
    const store = await db.open();
    const name = named('cairn-keep', 'first bytes');
    await store.keepSdkChunks([{ name, bytes: new TextEncoder().encode('first bytes') }], 1_000);
    await store.keepSdkChunks([{ name, bytes: new TextEncoder().encode('other bytes') }], 3_000);
    await store.keepSdkChunks([{ name, bytes: new TextEncoder().encode('first bytes') }], 2_000);
    expect(text(await store.sdkChunk(name))).toBe('first bytes');
    const row = (await db.tables()).sdk_chunks?.find((r) => r.name === name);
    expect([Number(row?.first_seen_at), Number(row?.seen_at)]).toEqual([1_000, 3_000]);
    expect(await store.sdkChunk(named('cairn-keep', 'not kept'))).toBeNull();
  });

  it('prunes a chunk not seen for over 30 days, and not a recent one', async () => {
    // A database of its own: the other tests' chunks would be pruned too.
    const own = another(db);
    onTestFinished(() => own.cleanup());
    const store = await own.open();
    const now = Date.UTC(2030, 0, 1);
    const chunk = (code: string): SdkChunkFile => ({ name: named('cairn-prune', code), bytes: Buffer.from(code) });
    const [old, recent, refreshed] = [chunk('31 days'), chunk('29 days'), chunk('refreshed')];
    await store.keepSdkChunks([old, refreshed], now - 31 * DAY);
    await store.keepSdkChunks([recent], now - 29 * DAY);
    await store.keepSdkChunks([refreshed], now - 1 * DAY); // its build still shipped yesterday
    expect(await store.pruneSdkChunks(now - SDK_CHUNK_DAYS * DAY)).toBe(1);
    expect(await store.sdkChunk(old.name)).toBeNull();
    expect(text(await store.sdkChunk(recent.name))).toBe('29 days');
    expect(text(await store.sdkChunk(refreshed.name))).toBe('refreshed');

    // The instances' pass prunes with the same rule: what no instance shipped for 30 days goes.
    const A = 'window.__build = "A";';
    const B = 'window.__build = "B";';
    const buildA = dist({ [named('cairn-core', A)]: A });
    const buildB = dist({ [named('cairn-core', B)]: B });
    const later = now + 100 * DAY;
    // The chunks above were last seen over 30 days before `later`.
    expect(await archiveSdkChunks({ store, sdkPath: () => buildA, now: () => later })).toEqual({
      kept: [named('cairn-core', A)],
      skipped: [],
      pruned: 2,
    });
    // 30 days on, only build B runs: A's last sighting is exactly 30 days old, and stays.
    expect(await archiveSdkChunks({ store, sdkPath: () => buildB, now: () => later + SDK_CHUNK_DAYS * DAY })).toEqual({
      kept: [named('cairn-core', B)],
      skipped: [],
      pruned: 0,
    });
    expect(text(await store.sdkChunk(named('cairn-core', A)))).toBe(A);
    // A day later it is gone; B, shipped again, stays.
    expect(
      await archiveSdkChunks({ store, sdkPath: () => buildB, now: () => later + (SDK_CHUNK_DAYS + 1) * DAY }),
    ).toMatchObject({ pruned: 1 });
    expect(await store.sdkChunk(named('cairn-core', A))).toBeNull();
    expect(text(await store.sdkChunk(named('cairn-core', B)))).toBe(B);
  });

  it('holds no one’s data: an erasure leaves the chunks, which belong to no site', async () => {
    const h = await harness(db);
    const name = named('cairn-core', 'public code');
    await h.store.keepSdkChunks([{ name, bytes: Buffer.from('public code') }], Date.now());
    const device = `dev-${builds}`;
    await h.store.ensureDevice('erase-site', device, 'hash');
    expect(await h.store.link('erase-site', device, 'erased-user', 1)).toBe('linked');
    expect(await h.store.deleteUser('erase-site', 'erased-user')).toBe(true);
    const row = (await h.snapshot()).sdk_chunks?.find((r) => (r as { name: string }).name === name) as object;
    // The erasure checks skip rows of other sites: these have no site at all.
    expect(Object.keys(row).sort()).toEqual(['bytes', 'first_seen_at', 'name', 'seen_at']);
    expect(text(await h.store.sdkChunk(name))).toBe('public code');
  });

  it('serves only bytes that match their name: a bad dist file falls through to the archive, a bad row is missing', async () => {
    const store = await db.open();
    const log = capture();
    const WHOLE = 'window.__chunk = "written whole";';
    const name = named('cairn-core', WHOLE);
    // A rebuild half-way through writing the file: not served, not remembered, and not in the archive yet.
    const head = dist({ [name]: WHOLE.slice(0, 12) });
    const chunks = createSdkChunks(() => head, store, log);
    expect(await chunks.read(name)).toBeNull();
    expect(await chunks.read(name)).toBeNull();
    // Another instance archives the whole chunk: served from there, the file notwithstanding.
    await store.keepSdkChunks([{ name, bytes: Buffer.from(WHOLE) }], Date.now());
    expect(text(((await chunks.read(name)) as SdkChunk).bytes)).toBe(WHOLE);
    // The file written whole, without an archive: memory held nothing of the half.
    const other = 'window.__chunk = "only in this dist";';
    const otherName = named('cairn-prompts', other);
    writeFileSync(join(head, '..', otherName), other.slice(0, 5));
    expect(await chunks.read(otherName)).toBeNull();
    writeFileSync(join(head, '..', otherName), other);
    expect(text(((await chunks.read(otherName)) as SdkChunk).bytes)).toBe(other);

    // A row whose bytes are not its name's (written by hand, or damaged) counts as missing.
    const forged = named('cairn-prompts', 'what the name says');
    await store.keepSdkChunks([{ name: forged, bytes: Buffer.from('something else') }], Date.now());
    expect(await chunks.read(forged)).toBeNull();
    expect(await createSdkChunks(() => null, store).read(forged)).toBe('unbuilt');
    // Warned about once a name and source, however often asked for.
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.obj)).toEqual([
      { chunk: name, from: 'dist' },
      { chunk: otherName, from: 'dist' },
      { chunk: forged, from: 'archive' },
    ]);

    // Through HTTP: never the half file nor the forged row, and never cached.
    const h = await harness(db, { sdkPath: head });
    const res = await h.req('GET', `/v1/${name}`);
    expect(await res.text()).toBe(WHOLE);
    expect(res.headers.get('etag')).toBe(etagOf(WHOLE));
    const refused = await h.req('GET', `/v1/${forged}`);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it.skipIf(db.name !== 'postgres')(
    'a prune skips the rows another transaction holds, and never waits for them',
    async () => {
      const own = another(db);
      onTestFinished(() => own.cleanup());
      const store = await own.open();
      const [held, free] = [named('cairn-core', 'held'), named('cairn-core', 'free')];
      await store.keepSdkChunks(
        [held, free].map((name) => ({ name, bytes: Buffer.from(name) })),
        Date.now() - 40 * DAY,
      );
      // Another instance keeping the old build again (a rollback): its upsert holds the row.
      const raw = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
      onTestFinished(() => raw.end());
      let locked!: () => void;
      const isLocked = new Promise<void>((ok) => (locked = ok));
      let release!: () => void;
      const released = new Promise<void>((ok) => (release = ok));
      const keeping = raw.begin(async (tx) => {
        await tx`UPDATE ${tx(own.options.pgSchema as string)}.sdk_chunks SET seen_at = ${Date.now()} WHERE name = ${held}`;
        locked();
        await released;
      });
      await isLocked;
      const pruning = store.pruneSdkChunks(Date.now() - SDK_CHUNK_DAYS * DAY);
      const first = await Promise.race([pruning, new Promise((ok) => setTimeout(ok, 3_000, 'waited'))]);
      release();
      await keeping;
      await pruning;
      expect(first).toBe(1);
      expect(text(await store.sdkChunk(held))).toBe(held);
      expect(await store.sdkChunk(free)).toBeNull();
    },
  );

  it('a database at the previous schema version gains the archive', async () => {
    const older = another(db);
    try {
      await atSchemaVersion(older, 10);
      // A new step: the applied ones stay as they were.
      expect(Object.keys(await older.tables())).not.toContain('sdk_chunks');
      const store = await older.open();
      expect((await older.tables()).schema_migrations?.map((r) => Number(r.version)).at(-1)).toBe(11);
      const name = named('cairn-core', 'upgraded');
      await store.keepSdkChunks([{ name, bytes: Buffer.from('upgraded') }], 1);
      expect(text(await store.sdkChunk(name))).toBe('upgraded');
    } finally {
      await older.cleanup();
    }
  });
});

describe('names outside CHUNK_NAME', () => {
  const BAD = [
    'cairn.js',
    'cairn-secret.txt',
    'cairn-other.abcdef12.json',
    'cairn-Upper.0123456789ab.js',
    'cairn-body.0123456.js',
    `cairn-body.${'a'.repeat(65)}.js`,
    'cairn-body.0123456789ab.js.map',
    '../cairn-up.0123456789ab.js',
    'x/../cairn-body.0123456789ab.js',
    'cairn-body.0123456789ab.js\u0000',
  ];

  it('never reach the store, neither read nor kept', async () => {
    const asked: string[] = [];
    const kept: string[] = [];
    const store = {
      async sdkChunk(name: string) {
        asked.push(name);
        return null;
      },
      async keepSdkChunks(chunks: SdkChunkFile[]) {
        kept.push(...chunks.map((c) => c.name));
      },
      async pruneSdkChunks() {
        return 0;
      },
    };
    const good = named('cairn-core', 'good');
    const head = dist({
      [good]: 'good',
      'cairn-secret.txt': 'not a chunk',
      'cairn-other.abcdef12.json': '{}',
      'cairn-Upper.0123456789ab.js': 'upper case',
      // Its bytes match its hash: only the name's shape keeps it out.
      [named('cairn-Hashed', 'matching bytes')]: 'matching bytes',
      'cairn-body.0123456789ab.js.map': '{}',
      [`cairn-long.${'a'.repeat(65)}.js`]: 'too long',
    });
    const chunks = createSdkChunks(() => head, store);
    for (const name of BAD) expect(await chunks.read(name), name).toBeNull();
    expect(await createSdkChunks(() => null, store).read('cairn-secret.txt')).toBeNull();
    expect(asked).toEqual([]);
    // A well-formed name this build lacks is asked for: the check above is not the absence of a store.
    expect(await chunks.read(named('cairn-core', 'elsewhere'))).toBeNull();
    expect(asked).toEqual([named('cairn-core', 'elsewhere')]);

    // Through HTTP: the route's pattern is looser than CHUNK_NAME.
    asked.length = 0;
    const app = createApp({
      store: store as unknown as Store,
      logger: false,
      rateLimit: { ip: false, device: false },
      sdkPath: head,
    });
    for (const path of [
      '/v1/cairn-body.0123456.js',
      `/v1/cairn-body.${'a'.repeat(65)}.js`,
      '/v1/cairn-Upper.0123456789ab.js',
    ])
      expect((await app.request(path)).status, path).toBe(404);
    expect(asked).toEqual([]);

    // Kept at start: the one chunk, none of the other files.
    expect(await archiveSdkChunks({ store, sdkPath: () => head })).toEqual({ kept: [good], skipped: [], pruned: 0 });
    expect(kept).toEqual([good]);
    expect(kept.every((n) => CHUNK_NAME.test(n))).toBe(true);
  });

  it('a file whose bytes do not match the hash in its name is not kept', async () => {
    const good = named('cairn-core', 'good');
    const forged = named('cairn-prompts', 'what the name says');
    const kept: string[] = [];
    const store = {
      async keepSdkChunks(chunks: SdkChunkFile[]) {
        kept.push(...chunks.map((c) => c.name));
      },
      async pruneSdkChunks() {
        return 0;
      },
    };
    const head = dist({ [good]: 'good', [forged]: 'half-written by a rebuild' });
    expect(await archiveSdkChunks({ store, sdkPath: () => head })).toEqual({
      kept: [good],
      skipped: [forged],
      pruned: 0,
    });
    expect(kept).toEqual([good]);
  });
});

describe('a failing store', () => {
  it('at start: the server starts and serves, and says why in a warning', async () => {
    const db = sqliteDb();
    // A database whose archive cannot be written: migrated, then its table gone.
    const store = await db.open();
    await store.close();
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(db.options.sqlitePath as string);
    raw.exec('DROP TABLE sdk_chunks');
    raw.close();
    const log = capture();
    const core = named('cairn-core', NEW_CORE);
    const running = await startServer({
      port: 0,
      db: db.options.sqlitePath as string,
      logger: log,
      sdkPath: dist({ [core]: NEW_CORE }),
      triggers: false,
    });
    try {
      await expect
        .poll(() => log.lines.filter((l) => l.level === 'warn').map((l) => l.msg))
        .toEqual([expect.stringMatching(/^SDK chunks not archived/)]);
      expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
      const res = await fetch(`${running.url}/v1/${core}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(NEW_CORE);
    } finally {
      await running.close();
      await db.cleanup();
    }
  });

  it('at start, however it fails: a warning, never a throw, and stop() waits for the pass', async () => {
    const log = capture();
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    let entered = false;
    const archive = startSdkArchive({
      store: {
        async keepSdkChunks() {
          entered = true;
          await held;
          throw new StoreError('unavailable', 'connect ECONNREFUSED 127.0.0.1:5432');
        },
        async pruneSdkChunks() {
          return 0;
        },
      },
      sdkPath: () => dist({ [named('cairn-core', 'x')]: 'x' }),
      log,
    });
    await expect.poll(() => entered).toBe(true);
    let stopped = false;
    const stopping = archive.stop().then(() => (stopped = true));
    await new Promise((ok) => setTimeout(ok, 20));
    expect(stopped).toBe(false); // the pass under way is waited for
    release();
    await stopping;
    expect(log.lines).toEqual([
      {
        level: 'warn',
        obj: { err: 'StoreError: connect ECONNREFUSED 127.0.0.1:5432', retryInMs: 30_000 },
        msg: expect.stringMatching(/^SDK chunks not archived/),
      },
    ]);
  });

  it.each([
    [
      'a statement timeout',
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
    ],
    ['an I/O error', Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })],
    ['an error of no known kind', new Error('something else')],
  ])('on a read, %s: 503 to retry, never kept by a cache, not 500', async (_, failure) => {
    const db = sqliteDb();
    try {
      const h = await harness(db);
      const down: Store = Object.assign(Object.create(h.store) as Store, {
        async sdkChunk() {
          throw failure;
        },
      });
      const app = createApp({ store: down, logger: false, rateLimit: { ip: false, device: false }, sdkPath: dist({}) });
      const res = await app.request(`/v1/${named('cairn-core', 'elsewhere')}`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'unavailable' });
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('cache-control')).toBe('no-store');
      // The instance's own chunks need no database.
      const own = named('cairn-core', 'own');
      const app2 = createApp({
        store: down,
        logger: false,
        rateLimit: { ip: false, device: false },
        sdkPath: dist({ [own]: 'own' }),
      });
      expect((await app2.request(`/v1/${own}`)).status).toBe(200);
    } finally {
      await db.cleanup();
    }
  });

  it('on a read: 503 to retry, not 404, for a chunk the build lacks', async () => {
    const db = sqliteDb();
    try {
      const h = await harness(db);
      const down: Store = Object.assign(Object.create(h.store) as Store, {
        async sdkChunk() {
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        },
      });
      const app = createApp({ store: down, logger: false, rateLimit: { ip: false, device: false }, sdkPath: dist({}) });
      const res = await app.request(`/v1/${named('cairn-core', 'elsewhere')}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('cache-control')).toBe('no-store');
    } finally {
      await db.cleanup();
    }
  });
});

describe('the chunk route’s refusals', () => {
  it('503 for an unbuilt SDK is never kept by a cache either', async () => {
    const app = new Hono<Env>();
    app.route('/', sdkRoutes({ sdkChunks: createSdkChunks(() => null, { sdkChunk: async () => null }) } as AppCtx));
    // As app.ts renders an HttpError.
    app.onError((err, c) => (err instanceof HttpError ? c.json(err.body(), err.status, err.headers) : c.text('', 500)));
    const res = await app.request(`/v1/${named('cairn-core', 'nowhere')}`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'sdk_unavailable' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('the archive’s timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** An archive whose passes (no SDK built: a prune each) fail while `failing` says so; `passes` counts them. */
  function timed(failing: () => boolean) {
    const log = capture();
    const passes: number[] = [];
    const archive = startSdkArchive({
      store: {
        async keepSdkChunks() {},
        async pruneSdkChunks() {
          passes.push(Date.now());
          if (failing()) throw Object.assign(new Error('sorry, too many clients already'), { code: '53300' });
          return 0;
        },
      },
      sdkPath: () => null,
      log,
    });
    return { archive, passes, log };
  }
  const S = 1_000;
  const H = 3_600_000;

  it('runs daily after a pass that succeeded', async () => {
    vi.useFakeTimers({ now: 0 });
    const { archive, passes } = timed(() => false);
    await vi.advanceTimersByTimeAsync(0);
    expect(passes).toEqual([0]);
    await vi.advanceTimersByTimeAsync(SDK_ARCHIVE_INTERVAL_MS - 1);
    expect(passes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toEqual([0, SDK_ARCHIVE_INTERVAL_MS]);
    await vi.advanceTimersByTimeAsync(5 * SDK_ARCHIVE_INTERVAL_MS);
    expect(passes).toHaveLength(7);
    await archive.stop();
  });

  it('retries a failed pass after 30 s, doubling up to an hour, then daily again after a success', async () => {
    vi.useFakeTimers({ now: 0 });
    let failures = 9;
    const { archive, passes, log } = timed(() => failures-- > 0);
    await vi.advanceTimersByTimeAsync(30 * H);
    const gaps = passes.slice(1).map((t, i) => t - (passes[i] as number));
    // 9 failed passes, then one that succeeded, then the daily rhythm.
    expect(gaps.slice(0, 9)).toEqual([30 * S, 60 * S, 120 * S, 240 * S, 480 * S, 960 * S, 1920 * S, H, H]);
    expect(gaps.slice(9)).toEqual([SDK_ARCHIVE_INTERVAL_MS]);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => (l.obj as { retryInMs: number }).retryInMs)).toEqual([
      30 * S,
      60 * S,
      120 * S,
      240 * S,
      480 * S,
      960 * S,
      1920 * S,
      H,
      H,
    ]);
    // A failure after a success starts again from 30 s.
    failures = 1;
    const before = passes.length;
    await vi.advanceTimersByTimeAsync(SDK_ARCHIVE_INTERVAL_MS + 30 * S);
    expect(passes.length - before).toBe(2);
    expect((passes.at(-1) as number) - (passes.at(-2) as number)).toBe(30 * S);
    await archive.stop();
  });

  it('stop() clears a retry waiting, and a pass that fails while stopping schedules none', async () => {
    vi.useFakeTimers({ now: 0 });
    const { archive, passes } = timed(() => true);
    await vi.advanceTimersByTimeAsync(0);
    expect(passes).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1); // the retry
    await archive.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(2 * SDK_ARCHIVE_INTERVAL_MS);
    expect(passes).toHaveLength(1);

    // Stopped while a pass is under way, which then fails: stop() waits for it, and no retry is left.
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    let entered = false;
    const log = capture();
    const slow = startSdkArchive({
      store: {
        async keepSdkChunks() {},
        async pruneSdkChunks() {
          entered = true;
          await held;
          throw new Error('connection terminated');
        },
      },
      sdkPath: () => null,
      log,
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(entered).toBe(true);
    let stopped = false;
    const stopping = slow.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('an instance whose SDK is not built', () => {
  it('serves the archived chunks; only a chunk found nowhere is unbuilt', async () => {
    const db = sqliteDb();
    try {
      const store = await db.open();
      const name = named('cairn-core', OLD_CORE);
      await store.keepSdkChunks([{ name, bytes: Buffer.from(OLD_CORE) }], Date.now());
      const chunks = createSdkChunks(() => null, store);
      expect(text(((await chunks.read(name)) as { bytes: Uint8Array }).bytes)).toBe(OLD_CORE);
      expect(await chunks.read(named('cairn-core', 'nowhere'))).toBe('unbuilt');
    } finally {
      await db.cleanup();
    }
  });
});
