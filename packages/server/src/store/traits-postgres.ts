import type postgres from 'postgres';
import type { Traits } from '@cairn/schema';
import { applyTraitsChange, traitsFromText } from './traits-rows.js';
import type { StoredTraits, TraitsChange, TraitsResult } from './types.js';

// A user's CRM traits on PostgreSQL: one row of user_traits (migration 7) per user, its JSON as text
// (jsonb would reorder the keys: the order written is the order read, as on SQLite).

type Sql = postgres.Sql<{ bigint: number }>;
type Tx = postgres.TransactionSql<{ bigint: number }>;

type ReadRow = { traits: string | null; updated_at: number | null };

async function read(tx: Sql | Tx, site: string, userId: string): Promise<StoredTraits | null> {
  const [row] = await tx<ReadRow[]>`
    SELECT t.traits, t.updated_at FROM users u
    LEFT JOIN user_traits t ON t.site = u.site AND t.user_id = u.user_id
    WHERE u.site = ${site} AND u.user_id = ${userId}`;
  if (!row) return null;
  return { traits: traitsFromText(row.traits), updatedAt: row.updated_at ?? 0 };
}

export function getTraitsPostgres(sql: Sql | Tx, site: string, userId: string): Promise<StoredTraits | null> {
  return read(sql, site, userId);
}

/** Inside the profile's read transaction: the linked user's traits, undefined when there are none. */
export async function profileTraitsPostgres(tx: Tx, site: string, userId: string): Promise<Traits | undefined> {
  const [row] = await tx<{ traits: string }[]>`
    SELECT traits FROM user_traits WHERE site = ${site} AND user_id = ${userId}`;
  const traits = traitsFromText(row?.traits);
  return Object.keys(traits).length > 0 ? traits : undefined;
}

/**
 * `lock` is the store's per-user lock (link and deleteUser take it too): two changes to one user's
 * traits apply one after the other, and an erasure never interleaves with one.
 */
export function changeTraitsPostgres(
  sql: Sql,
  lock: (tx: Tx, site: string, userId: string) => Promise<void>,
  site: string,
  userId: string,
  change: TraitsChange,
  at: number,
): Promise<TraitsResult> {
  return sql.begin(async (tx): Promise<TraitsResult> => {
    await lock(tx, site, userId);
    const current = await read(tx, site, userId);
    if (!current && change.kind === 'remove') return { refused: 'unknown_user' };
    // Removing a key that is not there changes nothing, not even the time.
    if (current && change.kind === 'remove' && !Object.hasOwn(current.traits, change.key)) return current;
    const applied = applyTraitsChange(current?.traits ?? {}, change);
    if (applied.tooMany !== undefined) return { refused: 'too_many', count: applied.tooMany, key: applied.key };
    const next = applied.traits;
    const text = JSON.stringify(next);
    await tx`INSERT INTO users (site, user_id, created_at) VALUES (${site}, ${userId}, ${at}) ON CONFLICT DO NOTHING`;
    await tx`
      INSERT INTO user_traits (site, user_id, traits, updated_at) VALUES (${site}, ${userId}, ${text}, ${at})
      ON CONFLICT (site, user_id) DO UPDATE SET traits = excluded.traits, updated_at = excluded.updated_at`;
    return { traits: next, updatedAt: at };
  });
}
