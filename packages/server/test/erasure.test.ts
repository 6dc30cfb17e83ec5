// DELETE /v1/users/:id erases: on SQLite, no byte of the user's page titles, email or id is left in
// the database files (main file, WAL, shared memory); on PostgreSQL, the tables an erasure touches
// are VACUUMed after it, so no tuple, live or dead, still holds them. A failing clean-up never
// fails the erasure.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CairnEvent } from '@cairn/schema';
import type { Log } from '../src/log.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import { PG_TEST_URL, sqliteDb, type Row, type TestDb } from './helpers/db.js';
import { admin, bearer, harness, id, type Harness } from './helpers/http.js';

const TOUCHED = ['events', 'optins', 'links', 'users', 'devices', 'user_traits', 'trigger_episodes'];

/** A user with a history: page views with distinctive titles and products, an opt-in with an email, a link, CRM traits. */
async function userWithHistory(h: Harness, site: string) {
  const tag = randomBytes(6).toString('hex');
  const secrets = {
    title: `Quokka-title-${tag}`,
    product: `Quokka-product-${tag}`,
    email: `quokka-${tag}@example.com`,
    user: `quokka-user-${tag}`,
    trait: `Quokka-trait-${tag}`,
  };
  const device = { id: id(), token: randomBytes(24).toString('base64url') };
  const pages = Array.from(
    { length: 20 },
    (_, i) =>
      ({
        id: id(),
        type: 'page',
        at: 1_700_000_000_000 + i,
        path: `/p/${i}`,
        title: `${secrets.title} ${i}`,
        product: secrets.product,
      }) as CairnEvent,
  );
  const collected = await h.req('POST', '/v1/collect', {
    body: { site, deviceId: device.id, events: pages },
    headers: bearer(device.token),
  });
  expect(collected.status).toBe(202);
  const optin = await h.req('POST', '/v1/optins', {
    body: { id: id(), site, deviceId: device.id, email: secrets.email, consentText: 'Yes', at: 1_700_000_000_100 },
    headers: bearer(device.token),
  });
  expect(optin.status).toBeLessThan(300);
  expect(await h.store.link(site, device.id, secrets.user, 1_700_000_000_200)).toBe('linked');
  const traits = await h.req('PUT', `/v1/users/${secrets.user}/traits?site=${site}`, {
    body: { tier: secrets.trait },
    headers: admin,
  });
  expect(traits.status).toBe(200);
  return secrets;
}

async function erase(h: Harness, site: string, userId: string): Promise<void> {
  const r = await h.req('DELETE', `/v1/users/${userId}?site=${site}`, { headers: admin });
  expect(r.status).toBe(200);
  // Every table is empty of the user: the rows are gone, whatever the files hold.
  expect(JSON.stringify(await h.snapshot())).not.toContain(userId);
}

/**
 * PostgreSQL in a database of its own: VACUUM cannot remove a dead tuple that an open transaction
 * of the same database may still see, and other suites run in the shared test database meanwhile.
 */
function isolatedPostgresDb(): TestDb {
  const name = `cairn_erasure_${randomBytes(6).toString('hex')}`;
  const url = new URL(PG_TEST_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const admin = () => postgres(PG_TEST_URL, { max: 1, onnotice: () => undefined });
  const opened: Store[] = [];
  let created = false;
  return {
    name: 'postgres',
    options: { databaseUrl },
    async open(opts) {
      if (!created) {
        const sql = admin();
        await sql.unsafe(`CREATE DATABASE ${name}`).finally(() => sql.end());
        created = true;
      }
      const store = await openStore({ databaseUrl, ...opts });
      opened.push(store);
      return store;
    },
    async tables() {
      const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
      try {
        const names = await sql<{ t: string }[]>`
          SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
        const out: Record<string, Row[]> = {};
        for (const { t } of names) out[t] = [...(await sql<Row[]>`SELECT * FROM ${sql(t)}`)];
        return out;
      } finally {
        await sql.end();
      }
    },
    async cleanup() {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      if (!created) return;
      const sql = admin();
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => sql.end());
    },
  };
}

describe.each([sqliteDb(), isolatedPostgresDb()])('erasure on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
  });
  afterAll(() => db.cleanup());

  it.runIf(db.name === 'sqlite')('leaves none of the user’s strings in the database files', async () => {
    const site = 'erase-files';
    const secrets = await userWithHistory(h, site);
    const path = db.options.sqlitePath!;
    const files = () => [path, `${path}-wal`, `${path}-shm`].filter((f) => existsSync(f));
    const holding = (needle: string) => files().filter((f) => readFileSync(f).includes(Buffer.from(needle, 'utf8')));
    // The test can see them: before the erasure they are on disk.
    expect(holding(secrets.title)).not.toEqual([]);
    expect(holding(secrets.email)).not.toEqual([]);
    expect(holding(secrets.trait)).not.toEqual([]);

    await erase(h, site, secrets.user);
    for (const needle of Object.values(secrets))
      expect({ needle, files: holding(needle) }).toEqual({ needle, files: [] });
  });

  it.runIf(db.name === 'postgres')(
    'VACUUMs the touched tables: no tuple, live or dead, holds the user’s strings',
    async () => {
      const site = 'erase-vacuum';
      const secrets = await userWithHistory(h, site);
      const sql = postgres(db.options.databaseUrl!, { max: 1, onnotice: () => undefined });
      try {
        await ensureExtension(sql, 'pageinspect');
        const vacuums = async () =>
          Object.fromEntries(
            (
              await sql<{ relname: string; n: number }[]>`
              SELECT relname, vacuum_count::int AS n FROM pg_stat_user_tables
              WHERE schemaname = 'public' AND relname = ANY(${TOUCHED})`
            ).map((r) => [r.relname, r.n]),
          );
        /** Tuples on the tables' pages (live, or dead and not yet reclaimed) whose data holds `needle`. */
        const tuplesHolding = async (needle: string) => {
          let n = 0;
          for (const table of TOUCHED) {
            const rel = `public.${table}`;
            const [size] = await sql<{ pages: number }[]>`
            SELECT (pg_relation_size(${rel}::regclass) / current_setting('block_size')::int)::int AS pages`;
            for (let page = 0; page < (size?.pages ?? 0); page++) {
              const [r] = await sql<{ n: number }[]>`
              SELECT count(*)::int AS n FROM heap_page_items(get_raw_page(${rel}, ${page}))
              WHERE t_data IS NOT NULL AND position(convert_to(${needle}, 'UTF8') IN t_data) > 0`;
              n += r!.n;
            }
          }
          return n;
        };
        /** Entries of the tables' (btree) indexes whose key holds `needle`. */
        const indexEntriesHolding = async (needle: string) => {
          const hex = Buffer.from(needle, 'utf8').toString('hex');
          let n = 0;
          const indexes = await sql<{ name: string; pages: number }[]>`
            SELECT c.relname AS name, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS pages
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace s ON s.oid = t.relnamespace
            WHERE s.nspname = 'public' AND t.relname = ANY(${TOUCHED})`;
          // Page 0 is the metapage.
          for (const index of indexes)
            for (let page = 1; page < index.pages; page++) {
              const [r] = await sql<{ n: number }[]>`
                SELECT count(*)::int AS n FROM bt_page_items(get_raw_page(${`public.${index.name}`}, ${page}))
                WHERE position(${hex} IN replace(coalesce(data, ''), ' ', '')) > 0`;
              n += r!.n;
            }
          return n;
        };
        expect(await tuplesHolding(secrets.title)).toBeGreaterThan(0);
        expect(await tuplesHolding(secrets.trait)).toBeGreaterThan(0);
        // The user id is in index keys (users, links_user, devices_user). Products are in none since
        // migration 4: they are read from the page rows.
        expect(await indexEntriesHolding(secrets.user)).toBeGreaterThan(0);
        const before = await vacuums();

        await erase(h, site, secrets.user);
        // pg_stat_user_tables: one more VACUUM of each table the erasure touched.
        const after = await vacuums();
        for (const table of TOUCHED)
          expect({ table, vacuums: after[table] }).toEqual({ table, vacuums: (before[table] ?? 0) + 1 });
        for (const needle of Object.values(secrets))
          expect({
            needle,
            tuples: await tuplesHolding(needle),
            indexEntries: await indexEntriesHolding(needle),
          }).toEqual({ needle, tuples: 0, indexEntries: 0 });
      } finally {
        await sql.end();
      }
    },
  );

  it('answers 200 and logs when the clean-up after an erasure fails: the rows are gone all the same', async () => {
    const warnings: object[] = [];
    const log: Log = { info: () => undefined, error: () => undefined, warn: (o) => void warnings.push(o) };
    const failing: Store = Object.assign(Object.create(h.store) as Store, {
      async reclaimErased(): Promise<never> {
        throw new Error('VACUUM cannot run: out of disk');
      },
    });
    const app = await harness(db, { store: failing, logger: log });
    const site = 'erase-failing';
    const secrets = await userWithHistory(app, site);
    const r = await app.req('DELETE', `/v1/users/${secrets.user}?site=${site}`, { headers: admin });
    expect(r.status).toBe(200);
    expect(await h.store.exportUser(site, secrets.user)).toBeNull();
    expect(warnings).toEqual([expect.objectContaining({ event: 'erasure_reclaim_failed', site })]);
  });
});

/** Creates a contrib extension once for the test database; another suite may be creating it at the same time. */
async function ensureExtension(sql: postgres.Sql, name: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await sql.unsafe(`CREATE EXTENSION IF NOT EXISTS ${name} SCHEMA public`);
      return;
    } catch (e) {
      const [found] = await sql`SELECT 1 FROM pg_extension WHERE extname = ${name}`;
      if (found) return;
      if (attempt === 2) throw e;
    }
  }
}
