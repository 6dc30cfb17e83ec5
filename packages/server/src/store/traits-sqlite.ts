import type Database from 'better-sqlite3';
import type { Traits } from '@cairn/schema';
import { applyTraitsChange, traitsFromText } from './traits-rows.js';
import type { StoredTraits, TraitsChange, TraitsResult } from './types.js';

// A user's CRM traits on SQLite: one row of user_traits (migration 7) per user, its JSON in `traits`.

const READ = `SELECT t.traits, t.updated_at FROM users u
  LEFT JOIN user_traits t ON t.site = u.site AND t.user_id = u.user_id
  WHERE u.site = ? AND u.user_id = ?`;
const PROFILE = 'SELECT traits FROM user_traits WHERE site = ? AND user_id = ?';
const INSERT_USER = 'INSERT INTO users (site, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING';
const UPSERT = `INSERT INTO user_traits (site, user_id, traits, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (site, user_id) DO UPDATE SET traits = excluded.traits, updated_at = excluded.updated_at`;

/** Prepared once per connection: the profile reads traits on every request of an identified visitor. */
const prepared = new WeakMap<
  Database.Database,
  Record<'read' | 'profile' | 'insertUser' | 'upsert', Database.Statement>
>();
function statements(db: Database.Database) {
  let s = prepared.get(db);
  if (!s) {
    s = {
      read: db.prepare(READ),
      profile: db.prepare(PROFILE),
      insertUser: db.prepare(INSERT_USER),
      upsert: db.prepare(UPSERT),
    };
    prepared.set(db, s);
  }
  return s;
}

type ReadRow = { traits: string | null; updated_at: number | null };

/** Synchronous: for use inside another read transaction (the export). */
export function readTraitsSqlite(db: Database.Database, site: string, userId: string): StoredTraits | null {
  const row = statements(db).read.get(site, userId) as ReadRow | undefined;
  if (!row) return null;
  return { traits: traitsFromText(row.traits), updatedAt: row.updated_at ?? 0 };
}

export function getTraitsSqlite(db: Database.Database, site: string, userId: string): Promise<StoredTraits | null> {
  return Promise.resolve(readTraitsSqlite(db, site, userId));
}

/** Inside the profile's read transaction: the linked user's traits, undefined when there are none. */
export function profileTraitsSqlite(db: Database.Database, site: string, userId: string): Traits | undefined {
  const row = statements(db).profile.get(site, userId) as { traits: string } | undefined;
  const traits = traitsFromText(row?.traits);
  return Object.keys(traits).length > 0 ? traits : undefined;
}

export function changeTraitsSqlite(
  db: Database.Database,
  site: string,
  userId: string,
  change: TraitsChange,
  at: number,
): Promise<TraitsResult> {
  const s = statements(db);
  return Promise.resolve(
    db
      .transaction((): TraitsResult => {
        const current = readTraitsSqlite(db, site, userId);
        if (!current && change.kind === 'remove') return { refused: 'unknown_user' };
        // Removing a key that is not there changes nothing, not even the time.
        if (current && change.kind === 'remove' && !Object.hasOwn(current.traits, change.key)) return current;
        const applied = applyTraitsChange(current?.traits ?? {}, change);
        if (applied.tooMany !== undefined) return { refused: 'too_many', count: applied.tooMany, key: applied.key };
        const next = applied.traits;
        s.insertUser.run(site, userId, at);
        s.upsert.run(site, userId, JSON.stringify(next), at);
        return { traits: next, updatedAt: at };
      })
      .immediate(),
  );
}
