import { StoreError } from './errors.js';
import { openPostgres } from './postgres.js';
import { openSqlite } from './sqlite.js';
import type { Store } from './types.js';

export type * from './types.js';
export { StoreError, type StoreErrorCode } from './errors.js';

export interface OpenStoreOptions {
  /** The SQLite file, created with its directory if missing. Used when `databaseUrl` is not given. */
  sqlitePath?: string;
  /** A postgres:// URL: selects PostgreSQL. */
  databaseUrl?: string;
  /** Postgres only: the schema to keep the tables in (created if missing). Default: the search_path. */
  pgSchema?: string;
  /** Apply pending migrations before resolving (default true). */
  migrate?: boolean;
}

export const DEFAULT_SQLITE_PATH = './.cairn/cairn.db';

/**
 * Opens the store: PostgreSQL when `databaseUrl` is set, else SQLite at `sqlitePath`, then migrates.
 * Rejects with a one-line StoreError ('unavailable') when the database cannot be reached or written.
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const store = opts.databaseUrl
    ? await openPostgres(opts.databaseUrl, opts.pgSchema)
    : openSqlite(opts.sqlitePath ?? DEFAULT_SQLITE_PATH);
  if (opts.migrate === false) return store;
  try {
    await store.migrate();
    return store;
  } catch (e) {
    await store.close().catch(() => undefined);
    if (e instanceof StoreError) throw e;
    throw new StoreError('unavailable', `cannot migrate the ${store.kind} database: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
