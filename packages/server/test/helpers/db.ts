// Fresh databases of either kind for tests: a temp SQLite file, or a throwaway schema on the local
// PostgreSQL. Shared by the store suite and the HTTP suite; keep this interface stable.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { openStore, type OpenStoreOptions, type Store } from '../../src/store/index.js';
import { pgMigrations, sqliteMigrations } from '../../src/store/migrations.js';

export const PG_TEST_URL = process.env.CAIRN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Row = Record<string, unknown>;

export interface TestDb {
  name: 'sqlite' | 'postgres';
  /** openStore options pointing at this database, for code that opens its own store (e.g. the CLI). */
  options: OpenStoreOptions;
  /** A new Store instance on this database (migrated unless `migrate: false`). Call twice for two instances. */
  open(opts?: { migrate?: boolean }): Promise<Store>;
  /** Every row of every table (schema_migrations included), by table name, read directly from the database. */
  tables(): Promise<Record<string, Row[]>>;
  /** Closes the stores opened here and deletes the database (file or schema). */
  cleanup(): Promise<void>;
}

/** One fresh database per kind; use with `describe.each(makeStores())`. */
export function makeStores(): TestDb[] {
  return [sqliteDb(), postgresDb()];
}

export function sqliteDb(): TestDb {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-store-'));
  const sqlitePath = join(dir, 'nested', 'cairn.db');
  const opened: Store[] = [];
  return {
    name: 'sqlite',
    options: { sqlitePath },
    async open(opts) {
      const s = await openStore({ sqlitePath, ...opts });
      opened.push(s);
      return s;
    },
    async tables() {
      const db = new Database(sqlitePath, { readonly: true });
      try {
        const names = db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
          .pluck()
          .all() as string[];
        return Object.fromEntries(names.map((n) => [n, db.prepare(`SELECT * FROM "${n}"`).all() as Row[]]));
      } finally {
        db.close();
      }
    },
    async cleanup() {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresDb(): TestDb {
  const pgSchema = `cairn_t_${randomBytes(6).toString('hex')}`;
  const opened: Store[] = [];
  const admin = () => postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
  return {
    name: 'postgres',
    options: { databaseUrl: PG_TEST_URL, pgSchema },
    async open(opts) {
      const s = await openStore({ databaseUrl: PG_TEST_URL, pgSchema, ...opts });
      opened.push(s);
      return s;
    },
    async tables() {
      const sql = admin();
      try {
        const names = (
          await sql<{ table_name: string }[]>`
          SELECT table_name FROM information_schema.tables WHERE table_schema = ${pgSchema} ORDER BY table_name`
        ).map((r) => r.table_name);
        const out: Record<string, Row[]> = {};
        for (const n of names) out[n] = [...(await sql<Row[]>`SELECT * FROM ${sql(pgSchema)}.${sql(n)}`)];
        return out;
      } finally {
        await sql.end();
      }
    },
    async cleanup() {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      const sql = admin();
      try {
        await sql`DROP SCHEMA IF EXISTS ${sql(pgSchema)} CASCADE`;
        // A server started on this schema keeps its webhook jobs (pg-boss) beside it: triggers/runner.ts jobsSchema.
        await sql`DROP SCHEMA IF EXISTS ${sql(`${pgSchema}_jobs`)} CASCADE`;
      } finally {
        await sql.end();
      }
    },
  };
}

/**
 * Leaves `db` as a server at schema version `version` would have: schema_migrations as each store's
 * migrate() creates it, every migration up to `version` applied and recorded, then `rows` (SQL that
 * runs on both dialects), all straight on the database. The next store opened there migrates the rest.
 */
export async function atSchemaVersion(db: TestDb, version: number, rows: string[] = []): Promise<void> {
  const table = `CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at ${db.name === 'sqlite' ? 'INTEGER' : 'bigint'} NOT NULL)`;
  const migrations = (db.name === 'sqlite' ? sqliteMigrations : pgMigrations).filter((m) => m.version <= version);
  if (db.name === 'sqlite') {
    await (await db.open({ migrate: false })).close(); // creates the file
    const raw = new Database(db.options.sqlitePath!);
    try {
      raw.exec(table);
      for (const m of migrations) {
        raw.exec(m.sql);
        raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      for (const row of rows) raw.exec(row);
    } finally {
      raw.close();
    }
    return;
  }
  const raw = postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
  try {
    await raw.begin(async (tx) => {
      await tx.unsafe(`CREATE SCHEMA ${db.options.pgSchema}; SET LOCAL search_path TO ${db.options.pgSchema}`);
      await tx.unsafe(table);
      for (const m of migrations) {
        await tx.unsafe(m.sql).simple();
        await tx`INSERT INTO schema_migrations VALUES (${m.version}, ${m.name}, 0)`;
      }
      if (rows.length) await tx.unsafe(rows.join(';\n')).simple();
    });
  } finally {
    await raw.end();
  }
}
