// The practical ceiling of ingestion: a bare Hono app that inserts a collect batch into Cairn's own
// events table with better-sqlite3, and nothing else (no validation, no device, no token, no log).
// Its schema is Cairn's migrations up to `versions` (3: the indexes before migration 4; 'all': today's),
// on the same connection settings as Cairn's SQLite store (store/sqlite.ts), so the only difference
// between it and Cairn's collect is the work Cairn does around the insert.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, SERVER_DIST } from './paths.mjs';

/** Cairn's SQLite migrations, from the built server. */
async function migrations() {
  const url = pathToFileURL(join(ROOT, 'packages/server/dist/store/migrations.js')).href;
  return (await import(url)).sqliteMigrations;
}

/**
 * Opens `file` as Cairn's store does and applies the migrations up to `versions`. With
 * `inlineCheckpoints`, SQLite's default instead: a checkpoint inside the commit that takes the WAL
 * past 1,000 pages, no timer (what the store did before checkpoints moved off the request path).
 */
export async function openCeilingDb(file, versions, { inlineCheckpoints = false } = {}) {
  const Database = createRequire(SERVER_DIST)('better-sqlite3');
  const sqlite = await import(pathToFileURL(join(ROOT, 'packages/server/dist/store/sqlite.js')).href);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('secure_delete = ON');
  db.pragma(`wal_autocheckpoint = ${inlineCheckpoints ? 1000 : (sqlite.WAL_AUTOCHECKPOINT_PAGES ?? 1000)}`);
  const timer =
    sqlite.CHECKPOINT_INTERVAL_MS && !inlineCheckpoints
      ? setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), sqlite.CHECKPOINT_INTERVAL_MS).unref()
      : null;
  for (const m of await migrations()) if (versions === 'all' || m.version <= versions) db.exec(m.sql);
  const close = () => {
    if (timer) clearInterval(timer);
    db.close();
  };
  return { db, close };
}

/** The indexes on `events` in a ceiling database, for the report. */
export function eventIndexes(db) {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").pluck().all();
}

/**
 * The ceiling's insert of a collect batch into `db` (a transaction: call `.immediate(site, deviceId,
 * events)`), with each event's columns as Cairn's collect fills them for page views.
 */
export function ceilingInsert(db) {
  const insert = db.prepare(
    `INSERT INTO events (site, id, device_id, type, at, product, category, channel, device, body, received_seq, order_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO NOTHING`,
  );
  let seq = 0;
  return db.transaction((site, deviceId, events) => {
    for (const { id, type, at, ...rest } of events) {
      const page = type === 'page';
      insert.run(
        site,
        id,
        deviceId,
        type,
        at,
        page && typeof rest.product === 'string' ? rest.product : null,
        page && typeof rest.category === 'string' ? rest.category : null,
        null,
        rest.device ?? null,
        JSON.stringify(rest),
        ++seq,
        null,
      );
    }
  });
}

/** Starts the ceiling server; resolves to its URL and close(). */
export async function startCeiling({ db: file, versions, inlineCheckpoints }) {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const { db, close } = await openCeilingDb(file, versions, { inlineCheckpoints });
  const insertBatch = ceilingInsert(db);
  const app = new Hono();
  app.post('/v1/collect', async (c) => {
    const b = await c.req.json();
    insertBatch.immediate(b.site, b.deviceId, b.events);
    return c.json({ accepted: b.events.length }, 202);
  });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise((r) =>
            server.close(() => {
              close();
              r();
            }),
          ),
      }),
    );
  });
}
