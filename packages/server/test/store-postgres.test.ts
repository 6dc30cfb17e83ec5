// PostgreSQL-only start-up behaviour: clear one-line errors, never a password in them.
import { describe, expect, it, vi } from 'vitest';
import { openStore, StoreError } from '../src/store/index.js';
import { PG_TEST_URL, postgresDb } from './helpers/db.js';

// A ceiling for a shared, busy machine (child processes, real databases), not a speed assertion.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

async function failure(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoreError);
  const err = e as StoreError;
  expect(err.code).toBe('unavailable');
  expect(err.message).not.toContain('\n');
  return err;
}

describe('opening a postgres store', () => {
  it('rejects an unreachable server with the address and without the password', async () => {
    const err = await failure(openStore({ databaseUrl: 'postgres://cairn:s3cret-pw@127.0.0.1:1/cairn' }));
    expect(err.message).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1\/cairn: .*ECONNREFUSED/);
    expect(err.message).not.toContain('s3cret-pw');
  });

  it('rejects a database that does not exist', async () => {
    const url = new URL(PG_TEST_URL);
    url.pathname = '/cairn_no_such_db';
    const err = await failure(openStore({ databaseUrl: url.href }));
    expect(err.message).toContain('cairn_no_such_db');
  });

  it('rejects a URL that is not a postgres:// URL', async () => {
    for (const url of ['not a url', 'mysql://root@127.0.0.1/db']) {
      expect((await failure(openStore({ databaseUrl: url }))).message).toMatch(
        /^invalid DATABASE_URL: expected postgres:\/\//,
      );
    }
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    const err = await failure(openStore({ databaseUrl: PG_TEST_URL, pgSchema: 'x"; DROP TABLE y; --' }));
    expect(err.message).toMatch(/invalid PostgreSQL schema name/);
  });

  it('creates its schema and answers ping', async () => {
    const db = postgresDb();
    try {
      const store = await db.open();
      await store.ping();
      expect(Object.keys(await db.tables()).sort()).toEqual([
        'configs',
        'devices',
        'events',
        'links',
        'optins',
        'order_confirmations',
        'schema_migrations',
        'sdk_chunks',
        'sequences',
        'server_cookies',
        'trigger_episodes',
        'used_logins',
        'user_traits',
        'users',
      ]);
    } finally {
      await db.cleanup();
    }
  });
});
