import Database from 'better-sqlite3';
import postgres from 'postgres';
import { vi } from 'vitest';
import type { Store } from '../../src/store/types.js';

// The statements a store method runs, captured as it runs them, for the query-plan tests.

/** A statement as the store ran it: its SQL and its arguments. */
export interface Ran {
  sql: string;
  args: unknown[];
}

/** What `run` makes a SQLite store execute, through better-sqlite3's Statement `all` and `get`. */
export async function capturedSqlite(run: () => Promise<unknown>): Promise<Ran[]> {
  const ran: Ran[] = [];
  const proto = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as {
    all: (...args: unknown[]) => unknown;
    get: (...args: unknown[]) => unknown;
  };
  const spies = (['all', 'get'] as const).map((m) => {
    const original = proto[m];
    return vi.spyOn(proto, m).mockImplementation(function (this: Database.Statement, ...args: unknown[]) {
      ran.push({ sql: this.source, args });
      return original.apply(this, args);
    });
  });
  try {
    await run();
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return ran;
}

/** What `run` makes a PostgreSQL store send, through postgres.js's debug hook on the store's own client. */
export async function capturedPg(store: Store, run: () => Promise<unknown>): Promise<Ran[]> {
  const client = (store as unknown as { sql: postgres.Sql }).sql;
  const ran: Ran[] = [];
  client.options.debug = (_connection: number, sql: string, args: unknown[]) => ran.push({ sql, args });
  try {
    await run();
  } finally {
    client.options.debug = false;
  }
  return ran;
}

/** Each statement's plan on SQLite (EXPLAIN QUERY PLAN, one line a step), read on a connection of its own. */
export function plansSqlite(sqlitePath: string, ran: Ran[]): string[][] {
  const raw = new Database(sqlitePath, { readonly: true });
  try {
    return ran.map(({ sql, args }) =>
      (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail),
    );
  } finally {
    raw.close();
  }
}

/**
 * Each statement's plan on PostgreSQL (EXPLAIN, one line a step), in `schema`. On a few thousand rows
 * a sequential scan is cheapest; on a real table it is not. Discouraged (not forbidden): a query no
 * index can serve still shows a Seq Scan.
 */
export async function plansPg(url: string, schema: string, ran: Ran[]): Promise<string[][]> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    return await sql.begin(async (tx) => {
      await tx`SET LOCAL enable_seqscan = off`;
      await tx`SELECT set_config('search_path', ${schema}, true)`;
      const out: string[][] = [];
      for (const { sql: text, args } of ran) {
        const rows = await tx.unsafe(`EXPLAIN ${text}`, args as postgres.ParameterOrJSON<never>[]);
        out.push(rows.map((r) => r['QUERY PLAN'] as string));
      }
      return out;
    });
  } finally {
    await sql.end();
  }
}
