import postgres from 'postgres';
import { LIMITS, type CairnEvent, type DeviceKind, type OptinBody, type Profile, type SiteConfig } from '@cairn/schema';
import { buildProfile, emptyProfile, EXPOSURE_SCAN, EXPOSURE_TYPES } from './profile.js';
import { StoreError } from './errors.js';
import { EVENT_DAY, eventDay, pgMigrations, REPORT_INDEX_WHERE } from './migrations.js';
import {
  ITEM_SCAN,
  asKind,
  configFromRow,
  deviceRecord,
  etagMatches,
  etagOf,
  eventCols,
  itemFromRow,
  pageFromRow,
  claimerDevices,
  orderConfirmationFromRow,
  reportRowsFromRows,
  sameClaimer,
  sameConfirmation,
  exposureFromRow,
  touchFromRow,
  uniqueById,
  userExportFromRows,
  type ConfigRow,
  type DeviceRow,
  type EventRow,
  type FirstClaimRow,
  type LinkRow,
  type OptinRow,
  type OrderConfirmationRow,
  type ReportRowsRead,
  jsonColumn,
  profileVersionOf,
  bytesColumn,
  bytesParam,
  chunksByName,
} from './rows.js';
import { readReportDataPg } from './report-queries.js';
import { reportWorker, type ReportWorker } from './report-worker.js';
import { computeReport, reportWindow, type ReportRequest, type ReportResult } from '../reports/compute.js';
import { changeTraitsPostgres, getTraitsPostgres, profileTraitsPostgres } from './traits-postgres.js';
import type { StoredTraits, TraitsChange, TraitsResult } from './types.js';
import {
  deleteClosedEpisodesPg,
  denyDevicePg,
  evaluateDueEpisodesPg,
  exportEpisodesPg,
  listEpisodesPg,
  noteEpisodesPg,
} from './triggers-postgres.js';
import type {
  EpisodeCancelReason,
  EpisodeDecision,
  EpisodeFacts,
  EpisodeNotes,
  EpisodeRecord,
  PendingEpisode,
} from './types.js';
import {
  addDeliveryPg,
  claimDeliveryPg,
  deliveryStatusPg,
  dueDeliveriesPg,
  listDeliveriesPg,
  recordDeliveryPg,
} from './deliveries-postgres.js';
import type {
  DeliveryClaim,
  DeliveryLogRow,
  DeliveryOutcome,
  DueDelivery,
  EpisodeStatus,
  NewDelivery,
} from './types.js';
import {
  REPORT_BODY_TYPES,
  type ConfirmOrderResult,
  type DeviceRecord,
  type IngestResult,
  type LinkResult,
  type LoginUse,
  type OrderConfirmation,
  type ReclaimResult,
  type ReportData,
  type ReportExposures,
  type ReportRows,
  type SdkChunkFile,
  type Store,
  type StoredConfig,
  type UserExport,
  type VersionedProfile,
} from './types.js';

// Times are epoch milliseconds in bigint columns: well inside Number's safe range, so read them as numbers.
const bigintAsNumber = { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) };
type Types = { bigint: number };
type Sql = postgres.Sql<Types>;
type Tx = postgres.TransactionSql<Types>;

/** Connects (and checks the connection) to PostgreSQL; `schema` keeps the tables in their own schema. */
export async function openPostgres(url: string, schema?: string): Promise<Store> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreError('unavailable', `invalid PostgreSQL schema name "${schema}"`);
  }
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new StoreError('unavailable', 'invalid DATABASE_URL: expected postgres://user:password@host:port/database');
  }
  let sql: Sql;
  try {
    sql = postgres(url, {
      types: { bigint: bigintAsNumber },
      connect_timeout: 10,
      // CREATE … IF NOT EXISTS notices would otherwise go to stdout, which carries the JSON logs.
      onnotice: () => undefined,
      ...(schema ? { connection: { search_path: schema } } : {}),
    });
  } catch (e) {
    throw new StoreError('unavailable', `invalid DATABASE_URL: ${(e as Error).message}`, { cause: e });
  }
  try {
    await sql`SELECT 1`;
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    throw new StoreError('unavailable', `cannot connect to PostgreSQL at ${safeUrl(url)}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  // The reports' worker thread connects on its own, at the first report.
  return new PgStore(sql, schema, reportWorker({ dialect: 'postgres', url, ...(schema ? { schema } : {}) }));
}

/** The URL without its password, for error messages. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

class PgStore implements Store {
  readonly kind = 'postgres' as const;

  constructor(
    private readonly sql: Sql,
    private readonly schema: string | undefined,
    private readonly reports: ReportWorker | null = null,
  ) {}

  async migrate(): Promise<void> {
    const schema = this.schema;
    await this.sql.begin(async (tx) => {
      // Held until commit: a second instance waits here, then finds every step already recorded.
      await tx`SELECT pg_advisory_xact_lock(hashtext(${'cairn:migrate:' + (schema ?? '')}))`;
      if (schema) {
        // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE right even when the schema exists.
        const [exists] = await tx`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`;
        if (!exists) await tx`CREATE SCHEMA ${tx(schema)}`;
        await tx`SELECT set_config('search_path', ${schema}, true)`;
      }
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`;
      const done = new Set(
        (await tx<{ version: number }[]>`SELECT version FROM schema_migrations`).map((r) => r.version),
      );
      for (const m of pgMigrations) {
        if (done.has(m.version)) continue;
        await tx.unsafe(m.sql).simple();
        await tx`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${Date.now()})`;
      }
    });
  }

  async close(): Promise<void> {
    await this.reports?.close();
    await this.sql.end({ timeout: 5 });
  }

  async ping(): Promise<void> {
    await this.sql`SELECT 1`;
  }

  async ingest(
    site: string,
    deviceId: string,
    events: CairnEvent[],
    tokenHash: string,
    kind?: DeviceKind,
  ): Promise<IngestResult> {
    // Serialised before the transaction: an event that cannot be stored fails the batch before any write.
    const rows = uniqueById(events.map(eventCols));
    const orderIds = [...new Set(rows.flatMap((r) => (r.orderId === null ? [] : [r.orderId])))].sort();
    return this.sql.begin(async (tx): Promise<IngestResult> => {
      // Claims of one order wait for each other (locks taken in order-id order, before any row lock):
      // the first to number its rows (received_seq) commits first, and the next one sees it.
      for (const orderId of orderIds) await lockOrder(tx, site, orderId);
      const newDevice = await upsertDevice(tx, site, deviceId, tokenHash, kind);
      // One statement for the batch. Rows go in id order (uniqueById) so overlapping concurrent batches
      // take their row locks in the same order; ON CONFLICT DO NOTHING waits for the other transaction
      // and then counts its rows as duplicates.
      // The device's profile version is raised in the same statement when any row was stored
      // (profileVersion), and its bounds take in the stored rows' times (the reports' activity): its
      // row lock comes after the events', as in deleteUser's order of deletes.
      const inserted = rows.length
        ? await tx`
          WITH ins AS (
          INSERT INTO events (site, id, device_id, type, at, product, category, channel, device, body, order_id)
          SELECT ${site}, u.id, ${deviceId}, u.type, u.at, u.product, u.category, u.channel, u.device, u.body::jsonb, u.order_id
          FROM unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.at)}::bigint[],
                      ${rows.map((r) => r.product)}::text[], ${rows.map((r) => r.category)}::text[],
                      ${rows.map((r) => r.channel)}::text[], ${rows.map((r) => r.device)}::text[], ${rows.map((r) => r.body)}::text[],
                      ${rows.map((r) => r.orderId)}::text[])
               WITH ORDINALITY AS u(id, type, at, product, category, channel, device, body, order_id, n)
          ORDER BY u.n
          ON CONFLICT (site, id) DO NOTHING
          RETURNING order_id, at),
          bump AS (
            UPDATE devices SET profile_version = profile_version + 1,
              first_event_at = LEAST(first_event_at, (SELECT min(at) FROM ins)),
              last_event_at = GREATEST(last_event_at, (SELECT max(at) FROM ins))
            WHERE site = ${site} AND device_id = ${deviceId} AND EXISTS (SELECT 1 FROM ins))
          SELECT order_id FROM ins`
        : [];
      const claims = new Map<string, number>();
      for (const r of inserted) if (r.order_id !== null) claims.set(r.order_id, (claims.get(r.order_id) ?? 0) + 1);
      let orderConflicts = 0;
      if (claims.size) {
        const [me] = await tx<{ user_id: string | null }[]>`
          SELECT user_id FROM devices WHERE site = ${site} AND device_id = ${deviceId}`;
        for (const [orderId, n] of claims) {
          const [first] = await tx<FirstClaimRow[]>`
            SELECT e.device_id, d.user_id FROM events e
            LEFT JOIN devices d ON d.site = e.site AND d.device_id = e.device_id
            WHERE e.site = ${site} AND e.order_id = ${orderId} ORDER BY e.received_seq LIMIT 1`;
          if (first && !sameClaimer(first, deviceId, me?.user_id ?? null)) orderConflicts += n;
        }
      }
      return {
        accepted: inserted.length,
        duplicates: events.length - inserted.length,
        newDevice,
        ...(orderConflicts ? { orderConflicts } : {}),
      };
    });
  }

  async getDevice(site: string, deviceId: string): Promise<DeviceRecord | null> {
    const [r] = await this.sql<DeviceRow[]>`SELECT * FROM devices WHERE site = ${site} AND device_id = ${deviceId}`;
    return r ? deviceRecord(r) : null;
  }

  async ensureDevice(site: string, deviceId: string, tokenHash: string, kind?: DeviceKind): Promise<boolean> {
    return this.sql.begin((tx) => upsertDevice(tx, site, deviceId, tokenHash, kind));
  }

  async profile(site: string, deviceId: string): Promise<Profile> {
    // REPEATABLE READ: every list below reads the same snapshot.
    return this.sql.begin('isolation level repeatable read read only', (tx) => readProfile(tx, site, deviceId));
  }

  async profileVersion(site: string, deviceId: string): Promise<string> {
    return readProfileVersion(this.sql, site, deviceId);
  }

  async versionedProfile(site: string, deviceId: string): Promise<VersionedProfile> {
    return this.sql.begin(
      'isolation level repeatable read read only',
      async (tx): Promise<VersionedProfile> => ({
        version: await readProfileVersion(tx, site, deviceId),
        profile: await readProfile(tx, site, deviceId),
      }),
    );
  }

  async link(site: string, deviceId: string, userId: string, at: number, login?: LoginUse): Promise<LinkResult> {
    return this.sql.begin(async (tx): Promise<LinkResult> => {
      await lockUser(tx, site, userId);
      // FOR UPDATE: two instances linking one device at once decide one after the other.
      const [d] = await tx<{ user_id: string | null }[]>`
        SELECT user_id FROM devices WHERE site = ${site} AND device_id = ${deviceId} FOR UPDATE`;
      if (!d) throw new StoreError('unknown_device', `unknown device ${deviceId}`);
      if (d.user_id !== null && d.user_id !== userId) {
        await tx`INSERT INTO links (site, device_id, user_id, at, action) VALUES (${site}, ${deviceId}, ${userId}, ${at}, 'conflict')`;
        return 'conflict';
      }
      if (login) {
        // The primary key decides between two devices presenting one login, whatever the user lock:
        // the second insert waits for the first transaction, then finds its row.
        const inserted = await tx`
          INSERT INTO used_logins (site, token_hash, device_id, exp)
          VALUES (${site}, ${login.tokenHash}, ${deviceId}, ${Math.floor(login.exp)})
          ON CONFLICT (site, token_hash) DO NOTHING RETURNING 1`;
        if (inserted.length === 0) {
          const [used] = await tx<{ device_id: string }[]>`
            SELECT device_id FROM used_logins WHERE site = ${site} AND token_hash = ${login.tokenHash}`;
          if (used?.device_id !== deviceId) return 'login_used';
        }
      }
      if (d.user_id === userId) return 'already';
      await tx`UPDATE devices SET user_id = ${userId} WHERE site = ${site} AND device_id = ${deviceId}`;
      await tx`INSERT INTO users (site, user_id, created_at) VALUES (${site}, ${userId}, ${Date.now()}) ON CONFLICT DO NOTHING`;
      await tx`INSERT INTO links (site, device_id, user_id, at, action) VALUES (${site}, ${deviceId}, ${userId}, ${at}, 'linked')`;
      return 'linked';
    });
  }

  async loginUsedBy(site: string, tokenHash: string): Promise<string | null> {
    const [r] = await this.sql<{ device_id: string }[]>`
      SELECT device_id FROM used_logins WHERE site = ${site} AND token_hash = ${tokenHash}`;
    return r ? r.device_id : null;
  }

  async pruneUsedLogins(exp: number): Promise<number> {
    return (await this.sql`DELETE FROM used_logins WHERE exp < ${exp}`).count;
  }

  async deleteEventsBefore(cutoff: number, limit: number): Promise<number> {
    // The deletion count (profileVersion) is raised in the same transaction, so a profile read's
    // snapshot sees both or neither. The devices of the batch keep their bounds (the reports'
    // activity) exact: their rows are locked first, in device order as deleteUser locks them, then the
    // events go and the bounds are read again from what is left. A collect for one of them waits, or
    // committed before the lock and is in the new statement's snapshot. Instances running a pass at
    // once take turns on shared devices; one whose batch another deleted first ends its pass there.
    return this.sql.begin(async (tx): Promise<number> => {
      // Found by their day (events_day), then their time.
      const batch = await tx<{ site: string; id: string; device_id: string }[]>`
        SELECT site, id, device_id FROM events WHERE ${tx.unsafe(EVENT_DAY)} <= ${eventDay(cutoff)} AND at < ${cutoff}
        LIMIT ${limit}`;
      if (batch.length === 0) return 0;
      const devices = [...new Map(batch.map((e) => [`${e.site}\n${e.device_id}`, e])).values()];
      const sites = devices.map((d) => d.site);
      const ids = devices.map((d) => d.device_id);
      await tx`
        SELECT 1 FROM devices WHERE (site, device_id) IN (SELECT * FROM unnest(${sites}::text[], ${ids}::text[]))
        ORDER BY site, device_id FOR UPDATE`;
      // By device too: only the locked devices' events go (an id erased and stored again meanwhile
      // by another device is that device's).
      const gone = await tx`
        DELETE FROM events WHERE (site, id, device_id) IN (SELECT * FROM unnest(${batch.map((e) => e.site)}::text[],
            ${batch.map((e) => e.id)}::text[], ${batch.map((e) => e.device_id)}::text[]))
          AND at < ${cutoff}`;
      if (gone.count === 0) return 0;
      await tx`UPDATE sequences SET value = value + 1 WHERE name = 'events_deleted'`;
      // A last event at or after the cutoff is still there. Each device's rows are read through
      // events_device_type_at (site, device_id), whatever their time.
      await tx`
        UPDATE devices d SET first_event_at = b.first_at,
          last_event_at = CASE WHEN d.last_event_at >= ${cutoff} THEN d.last_event_at ELSE b.last_at END
        FROM unnest(${sites}::text[], ${ids}::text[]) AS g(site, device_id)
        CROSS JOIN LATERAL (SELECT min(e.at) AS first_at, max(e.at) AS last_at FROM events e
          WHERE e.site = g.site AND e.device_id = g.device_id) b
        WHERE d.site = g.site AND d.device_id = g.device_id`;
      return gone.count;
    });
  }

  async revokeDevice(site: string, deviceId: string, tokenHash: string, at: number): Promise<boolean> {
    return this.sql.begin(async (tx): Promise<boolean> => {
      // A device never seen, revoked from the start: its token can never adopt it later.
      await tx`
        INSERT INTO devices (site, device_id, token_hash, created_at, last_seen_at, revoked_at)
        VALUES (${site}, ${deviceId}, ${tokenHash}, ${at}, ${at}, ${at})
        ON CONFLICT (site, device_id) DO NOTHING`;
      // Matches once the token is revoked too: a second logout is a no-op that succeeds.
      const r = await tx`
        UPDATE devices SET revoked_at = coalesce(revoked_at, ${at})
        WHERE site = ${site} AND device_id = ${deviceId} AND token_hash = ${tokenHash}`;
      return r.count === 1;
    });
  }

  async touchDevice(site: string, deviceId: string, at: number): Promise<void> {
    await this.sql`
      UPDATE devices SET last_seen_at = ${at}
      WHERE site = ${site} AND device_id = ${deviceId} AND (last_seen_at IS NULL OR last_seen_at < ${at})`;
  }

  async serverCookieDevice(site: string, secretHash: string): Promise<{ deviceId: string; boundAt: number } | null> {
    const [r] = await this.sql<{ device_id: string; created_at: string | number }[]>`
      SELECT device_id, created_at FROM server_cookies WHERE site = ${site} AND secret_hash = ${secretHash}`;
    return r ? { deviceId: r.device_id, boundAt: Number(r.created_at) } : null;
  }

  async bindServerCookie(site: string, deviceId: string, secretHash: string, at: number): Promise<void> {
    await this.sql`
      INSERT INTO server_cookies (site, device_id, secret_hash, created_at)
      VALUES (${site}, ${deviceId}, ${secretHash}, ${at})
      ON CONFLICT (site, device_id) DO UPDATE SET secret_hash = excluded.secret_hash, created_at = excluded.created_at`;
  }

  async rotateServerCookie(
    site: string,
    deviceId: string,
    oldHash: string,
    newHash: string,
    newTokenHash: string,
    at: number,
  ): Promise<boolean> {
    return this.sql.begin(async (tx): Promise<boolean> => {
      // The binding's row locked first: of two recoveries with one cookie, the second finds it moved.
      const [bound] = await tx`
        SELECT 1 FROM server_cookies
        WHERE site = ${site} AND device_id = ${deviceId} AND secret_hash = ${oldHash} FOR UPDATE`;
      if (!bound) return false;
      const token = await tx`
        UPDATE devices SET token_hash = ${newTokenHash}, last_seen_at = ${at}
        WHERE site = ${site} AND device_id = ${deviceId} AND revoked_at IS NULL`;
      if (token.count !== 1) return false;
      await tx`
        UPDATE server_cookies SET secret_hash = ${newHash}
        WHERE site = ${site} AND device_id = ${deviceId}`;
      return true;
    });
  }

  async unbindServerCookie(site: string, secretHash: string): Promise<void> {
    await this.sql`DELETE FROM server_cookies WHERE site = ${site} AND secret_hash = ${secretHash}`;
  }

  async getConfig(site: string): Promise<StoredConfig | null> {
    const [r] = await this.sql<ConfigRow[]>`SELECT json, etag, updated_at FROM configs WHERE site = ${site}`;
    return r ? configFromRow(r) : null;
  }

  async putConfig(site: string, config: SiteConfig, ifMatch?: string | null): Promise<StoredConfig | 'conflict'> {
    const json = JSON.stringify(config);
    const etag = etagOf(json);
    const now = Date.now();
    if (ifMatch === null) {
      // Only the first writer's row goes in; the primary key decides between concurrent ones.
      const r = await this.sql`
        INSERT INTO configs (site, json, etag, updated_at) VALUES (${site}, ${json}, ${etag}, ${now})
        ON CONFLICT (site) DO NOTHING`;
      return r.count === 1 ? configFromRow({ json, etag, updated_at: now }) : 'conflict';
    }
    if (ifMatch === undefined) {
      await this.sql`
        INSERT INTO configs (site, json, etag, updated_at) VALUES (${site}, ${json}, ${etag}, ${now})
        ON CONFLICT (site) DO UPDATE SET json = excluded.json, etag = excluded.etag, updated_at = excluded.updated_at`;
      return configFromRow({ json, etag, updated_at: now });
    }
    return this.sql.begin(async (tx): Promise<StoredConfig | 'conflict'> => {
      // Compare-and-swap under the row lock: of two writers holding the same ETag, one wins.
      const [cur] = await tx<{ etag: string }[]>`SELECT etag FROM configs WHERE site = ${site} FOR UPDATE`;
      if (!cur || !etagMatches(ifMatch, cur.etag)) return 'conflict';
      await tx`UPDATE configs SET json = ${json}, etag = ${etag}, updated_at = ${now} WHERE site = ${site}`;
      return configFromRow({ json, etag, updated_at: now });
    });
  }

  async addOptin(o: OptinBody): Promise<'created' | 'duplicate'> {
    const touch = o.touch ? JSON.stringify(o.touch) : null;
    const r = await this.sql`
      WITH ins AS (
        INSERT INTO optins (site, id, device_id, email, consent_text, at, prompt_id, touch)
        VALUES (${o.site}, ${o.id}, ${o.deviceId}, ${o.email}, ${o.consentText}, ${o.at}, ${o.promptId ?? null}, ${touch}::jsonb)
        ON CONFLICT (site, id) DO NOTHING
        RETURNING 1),
      -- The profile's optedIn may have changed (profileVersion).
      bump AS (
        UPDATE devices SET profile_version = profile_version + 1
        WHERE site = ${o.site} AND device_id = ${o.deviceId} AND EXISTS (SELECT 1 FROM ins))
      SELECT 1 FROM ins`;
    return r.length === 1 ? 'created' : 'duplicate';
  }

  async exportUser(site: string, userId: string): Promise<UserExport | null> {
    return this.sql.begin('isolation level repeatable read read only', async (tx): Promise<UserExport | null> => {
      const [u] = await tx`SELECT 1 FROM users WHERE site = ${site} AND user_id = ${userId}`;
      if (!u) return null;
      const devices = await tx<DeviceRow[]>`
        SELECT device_id, kind, created_at FROM devices WHERE site = ${site} AND user_id = ${userId} ORDER BY created_at, device_id`;
      const ids = devices.map((d) => d.device_id);
      const [events, optins, links] = await Promise.all([
        tx<EventRow[]>`
          SELECT id, device_id, type, at, body FROM events WHERE site = ${site} AND device_id = ANY(${ids}::text[]) ORDER BY at, id`,
        tx<OptinRow[]>`SELECT * FROM optins WHERE site = ${site} AND device_id = ANY(${ids}::text[]) ORDER BY at, id`,
        tx<LinkRow[]>`
          SELECT device_id, at, action FROM links WHERE site = ${site} AND user_id = ${userId} ORDER BY at, seq`,
      ]);
      const traits = (await getTraitsPostgres(tx, site, userId))?.traits ?? {};
      const triggerEpisodes = await exportEpisodesPg(tx, site, userId, ids);
      return { ...userExportFromRows(site, userId, { links, devices, events, optins }), traits, triggerEpisodes };
    });
  }

  async deleteUser(site: string, userId: string): Promise<boolean> {
    return this.sql.begin(async (tx): Promise<boolean> => {
      // The user's lock first, as link() takes it: a login linking another device waits until the
      // erasure is done, rather than linking a device whose events the erasure then leaves behind.
      await lockUser(tx, site, userId);
      // Lock the user's devices first so a concurrent link or ingest cannot slip rows in between.
      const ids = (
        await tx<{ device_id: string }[]>`
        SELECT device_id FROM devices WHERE site = ${site} AND user_id = ${userId} ORDER BY device_id FOR UPDATE`
      ).map((r) => r.device_id);
      const counts = [
        await tx`DELETE FROM events WHERE site = ${site} AND device_id = ANY(${ids}::text[])`,
        await tx`DELETE FROM optins WHERE site = ${site} AND device_id = ANY(${ids}::text[])`,
        await tx`DELETE FROM server_cookies WHERE site = ${site} AND device_id = ANY(${ids}::text[])`,
        // Their trigger episodes, under the user's key or a device's: the payloads name products and the email.
        await tx`DELETE FROM trigger_episodes WHERE site = ${site}
                 AND (person = ${`u:${userId}`} OR person = ANY(${ids.map((d) => `d:${d}`)}::text[]))`,
        // Unlinked, and their profile counters raised (profileVersion): a cached profile is rebuilt
        // even if the device is linked to the same user id again.
        await tx`UPDATE devices SET user_id = NULL, profile_version = profile_version + 1,
                   first_event_at = NULL, last_event_at = NULL
                 WHERE site = ${site} AND user_id = ${userId}`,
        await tx`DELETE FROM links WHERE site = ${site} AND user_id = ${userId}`,
        await tx`DELETE FROM user_traits WHERE site = ${site} AND user_id = ${userId}`,
        await tx`DELETE FROM users WHERE site = ${site} AND user_id = ${userId}`,
      ];
      return counts.some((r) => r.count > 0);
    });
  }
  async reclaimErased(): Promise<ReclaimResult> {
    // VACUUM cannot run in a transaction: one statement of its own, after the erasure committed. It
    // makes the deleted rows' space reusable (it does not overwrite it), unless an older transaction
    // still sees them. INDEX_CLEANUP: their index entries (products, categories, user ids) go too,
    // even when so few pages changed that VACUUM would otherwise leave the indexes alone.
    await this.sql.unsafe(
      'VACUUM (INDEX_CLEANUP TRUE) events, optins, links, users, devices, user_traits, trigger_episodes',
    );
    return {
      complete: true,
      detail: 'VACUUM of events, optins, links, users, devices, user_traits and trigger_episodes',
    };
  }

  async confirmOrder(site: string, c: OrderConfirmation): Promise<ConfirmOrderResult> {
    const inserted = await this.sql`
      INSERT INTO order_confirmations (site, order_id, value, currency, device_id, confirmed_at)
      VALUES (${site}, ${c.orderId}, ${c.value}, ${c.currency}, ${c.deviceId}, ${c.confirmedAt})
      ON CONFLICT (site, order_id) DO NOTHING RETURNING 1`;
    if (inserted.length) return 'confirmed';
    const [cur] = await this.sql<OrderConfirmationRow[]>`
      SELECT order_id, value, currency, device_id, confirmed_at FROM order_confirmations
      WHERE site = ${site} AND order_id = ${c.orderId}`;
    return cur && sameConfirmation(orderConfirmationFromRow(cur), c) ? 'already' : 'conflict';
  }

  async reportExposures(site: string, from: number, to: number): Promise<ReportExposures> {
    const types = [...EXPOSURE_TYPES];
    return this.sql.begin('isolation level repeatable read read only', async (tx): Promise<ReportExposures> => {
      // The people exposed in the range: their devices, and every device linked to the same user.
      const exposed = () => tx`
        SELECT device_id FROM events WHERE site = ${site} AND at >= ${from} AND at < ${to}
          AND ${tx.unsafe(REPORT_INDEX_WHERE)} AND type = ANY(${types}::text[])
          AND (body->'preview') IS DISTINCT FROM 'true'::jsonb`;
      const persons = () => tx`
        SELECT device_id FROM (${exposed()}) x
        UNION SELECT o.device_id FROM devices d JOIN devices o ON o.site = d.site AND o.user_id = d.user_id
        WHERE d.site = ${site} AND d.device_id IN (${exposed()})`;
      // Each device's first exposure of each type to each variant or prompt, over all time.
      const [events, devices] = await Promise.all([
        tx<ReportRowsRead['events']>`
          SELECT id, device_id, type, at, device, body FROM (
            SELECT id, device_id, type, at, device, body, row_number() OVER (
              PARTITION BY device_id, type, CASE WHEN type LIKE 'prompt%' THEN body->>'prompt' ELSE body->>'variant' END
              ORDER BY at, id) AS nth
            FROM events WHERE site = ${site} AND type = ANY(${types}::text[]) AND device_id IN (${persons()})
              AND (body->'preview') IS DISTINCT FROM 'true'::jsonb
          ) f WHERE nth = 1 ORDER BY at, id`,
        tx<ReportRowsRead['devices']>`
          SELECT d.device_id, d.kind, d.user_id,
            (SELECT min(l.at) FROM links l WHERE l.site = d.site AND l.device_id = d.device_id AND l.user_id = d.user_id AND l.action = 'linked') AS linked_at
          FROM devices d WHERE d.site = ${site} AND d.device_id IN (${persons()}) ORDER BY d.device_id`,
      ]);
      const rows = reportRowsFromRows({ events, devices, optins: [], orderClaims: [], orderConfirmations: [] });
      return { devices: rows.devices, events: rows.events };
    });
  }

  async reportData(site: string, readFrom: number, from: number, to: number): Promise<ReportData> {
    // REPEATABLE READ: one snapshot for every query, each on its own (the pool serves collects meanwhile).
    return readReportDataPg(this.sql, { site, readFrom, from, to });
  }

  async computeReport<R extends ReportRequest>(request: R): Promise<ReportResult<R>> {
    // In the worker, on its own connection: the report's JS never shares this event loop with collects.
    if (this.reports) return this.reports.run(request);
    const w = reportWindow(request);
    return computeReport(request, await this.reportData(request.site, w.readFrom, w.from, w.to));
  }

  async reportRows(site: string, from: number, to: number): Promise<ReportRows> {
    // REPEATABLE READ: the devices match the events and opt-ins exactly.
    return this.sql.begin('isolation level repeatable read read only', async (tx): Promise<ReportRows> => {
      // The orders claimed or confirmed in the range: all their claims are read, whatever their time.
      const orderIds = () => tx`
        SELECT order_id FROM events WHERE site = ${site} AND at >= ${from} AND at < ${to} AND order_id IS NOT NULL
        UNION SELECT order_id FROM order_confirmations WHERE site = ${site} AND confirmed_at >= ${from} AND confirmed_at < ${to}`;
      const [events, optins, orderClaims, orderConfirmations] = await Promise.all([
        tx<ReportRowsRead['events']>`
          SELECT id, device_id, type, at, device, CASE WHEN type = ANY(${[...REPORT_BODY_TYPES]}::text[]) THEN body END AS body
          FROM events WHERE site = ${site} AND at >= ${from} AND at < ${to} ORDER BY at, id`,
        tx<ReportRowsRead['optins']>`
          SELECT id, device_id, at, prompt_id FROM optins WHERE site = ${site} AND at >= ${from} AND at < ${to} ORDER BY at, id`,
        tx<ReportRowsRead['orderClaims']>`
          SELECT id, order_id, device_id, at, received_seq, body FROM events
          WHERE site = ${site} AND order_id IS NOT NULL AND order_id IN (${orderIds()}) ORDER BY received_seq`,
        tx<ReportRowsRead['orderConfirmations']>`
          SELECT order_id, value, currency, device_id, confirmed_at FROM order_confirmations
          WHERE site = ${site} AND order_id IN (${orderIds()}) ORDER BY order_id`,
      ]);
      const devices = await tx<ReportRowsRead['devices']>`
          SELECT d.device_id, d.kind, d.user_id,
            (SELECT min(l.at) FROM links l WHERE l.site = d.site AND l.device_id = d.device_id AND l.user_id = d.user_id AND l.action = 'linked') AS linked_at
          FROM devices d WHERE d.site = ${site} AND d.device_id IN (
            SELECT device_id FROM events WHERE site = ${site} AND at >= ${from} AND at < ${to}
            UNION SELECT device_id FROM optins WHERE site = ${site} AND at >= ${from} AND at < ${to}
            UNION SELECT unnest(${claimerDevices(orderClaims, orderConfirmations)}::text[]))
          ORDER BY d.device_id`;
      return reportRowsFromRows({ events, optins, devices, orderClaims, orderConfirmations });
    });
  }

  // Traits (traits-postgres.ts)
  async getTraits(site: string, userId: string): Promise<StoredTraits | null> {
    return getTraitsPostgres(this.sql, site, userId);
  }
  async changeTraits(site: string, userId: string, change: TraitsChange, at: number): Promise<TraitsResult> {
    return changeTraitsPostgres(this.sql, lockUser, site, userId, change, at);
  }

  // Deliveries (deliveries-postgres.ts)
  async claimDelivery(site: string, id: string, now: number, leaseMs: number): Promise<DeliveryClaim | null> {
    return claimDeliveryPg(this.sql, site, id, now, leaseMs);
  }
  async deliveryStatus(site: string, id: string): Promise<EpisodeStatus | null> {
    return deliveryStatusPg(this.sql, site, id);
  }
  async recordDelivery(
    site: string,
    id: string,
    claim: { attempt: number; leaseUntil: number },
    outcome: DeliveryOutcome,
  ): Promise<boolean> {
    return recordDeliveryPg(this.sql, site, id, claim, outcome);
  }
  async dueDeliveries(now: number, limit: number): Promise<DueDelivery[]> {
    return dueDeliveriesPg(this.sql, now, limit);
  }
  async listDeliveries(site: string, opts: { status?: EpisodeStatus; limit: number }): Promise<DeliveryLogRow[]> {
    return listDeliveriesPg(this.sql, site, opts);
  }
  async addDelivery(delivery: NewDelivery): Promise<void> {
    await addDeliveryPg(this.sql, delivery);
  }

  // Triggers (triggers-postgres.ts)
  async noteEpisodes(site: string, deviceId: string, notes: EpisodeNotes, now: number): Promise<void> {
    await noteEpisodesPg(this.sql, site, deviceId, notes, now);
  }
  async evaluateDueEpisodes(
    now: number,
    limit: number,
    decide: (facts: EpisodeFacts) => Promise<EpisodeDecision>,
    onError?: (episodeId: string, error: unknown) => void,
    onCancelled?: (episodeId: string, reason: EpisodeCancelReason) => void,
  ): Promise<PendingEpisode[]> {
    return evaluateDueEpisodesPg(this.sql, now, limit, decide, onError, onCancelled);
  }
  async denyDevice(site: string, deviceId: string, at: number): Promise<void> {
    await denyDevicePg(this.sql, site, deviceId, at);
  }
  async listEpisodes(site: string, limit: number): Promise<EpisodeRecord[]> {
    return listEpisodesPg(this.sql, site, limit);
  }
  async deleteClosedEpisodesBefore(cutoff: number, limit: number): Promise<number> {
    return deleteClosedEpisodesPg(this.sql, cutoff, limit);
  }

  // SDK chunks (migration 11).
  async keepSdkChunks(chunks: SdkChunkFile[], at: number): Promise<void> {
    // Name order: two instances keeping the same build lock its rows in the same order.
    await this.sql.begin(async (tx) => {
      for (const c of chunksByName(chunks))
        await tx`
          INSERT INTO sdk_chunks (name, bytes, first_seen_at, seen_at) VALUES (${c.name}, ${bytesParam(c.bytes)}, ${at}, ${at})
          ON CONFLICT (name) DO UPDATE SET seen_at = GREATEST(sdk_chunks.seen_at, excluded.seen_at)`;
    });
  }

  async sdkChunk(name: string): Promise<Uint8Array<ArrayBuffer> | null> {
    const [r] = await this.sql<{ bytes: Buffer }[]>`SELECT bytes FROM sdk_chunks WHERE name = ${name}`;
    return r ? bytesColumn(r.bytes) : null;
  }

  async pruneSdkChunks(before: number): Promise<number> {
    // Rows locked in name order, as keepSdkChunks locks them, and never waited for: a row another
    // instance is keeping right now (a rollback to a build unseen for 30 days) is being refreshed, so
    // it stays, and neither side can hold a lock the other waits for (no deadlock).
    return (
      await this.sql`
        DELETE FROM sdk_chunks WHERE name IN (
          SELECT name FROM sdk_chunks WHERE seen_at < ${before} ORDER BY name FOR UPDATE SKIP LOCKED)`
    ).count;
  }
}

/**
 * Serialises the transactions about one user (link, erasure) across instances, until commit: a
 * transaction-scoped advisory lock on a hash of site and user id (a collision only serialises more).
 */
async function lockUser(tx: Tx, site: string, userId: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(hashtextextended(${site + '\n' + userId}, 0))`;
}

/** Serialises the claims of one order (ingest), until commit; a hash collision only serialises more. */
async function lockOrder(tx: Tx, site: string, orderId: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(hashtextextended(${'order\n' + site + '\n' + orderId}, 0))`;
}

/** Store.profile's reads, in `tx` (a REPEATABLE READ transaction: every list from one snapshot). */
async function readProfile(tx: Tx, site: string, deviceId: string): Promise<Profile> {
  // A UNION, not an OR: each half searches its own index instead of every device of the site.
  const devices = await tx<Pick<DeviceRow, 'device_id' | 'kind' | 'user_id'>[]>`
        SELECT device_id, kind, user_id FROM devices WHERE site = ${site} AND device_id = ${deviceId}
        UNION SELECT device_id, kind, user_id FROM devices WHERE site = ${site} AND user_id =
          (SELECT user_id FROM devices WHERE site = ${site} AND device_id = ${deviceId})`;
  const me = devices.find((d) => d.device_id === deviceId);
  if (!me) return emptyProfile();
  const ids = me.user_id === null ? [deviceId] : devices.map((d) => d.device_id);
  // Per device, the newest N rows through the (site, device_id, …, at) indexes: the read stays flat
  // however long the history is. Rows of the same millisecond in buildProfile's order (event id),
  // so that both stores pick the same ones.
  const perDevice = (
    cols: postgres.PendingQuery<postgres.Row[]>,
    where: postgres.PendingQuery<postgres.Row[]>,
    order: 'ASC' | 'DESC',
    limit: number,
  ) => tx<postgres.Row[]>`
        SELECT d.id AS device_id, e.* FROM unnest(${ids}::text[]) AS d(id)
        CROSS JOIN LATERAL (
          SELECT ${cols} FROM events
          WHERE site = ${site} AND device_id = d.id AND ${where}
          ORDER BY ${order === 'ASC' ? tx`at ASC, id ASC` : tx`at DESC, id DESC`} LIMIT ${limit}
        ) e`;
  // A device's newest distinct products (or categories) among its newest ITEM_SCAN sightings,
  // made distinct here, so that only the rows the profile can use are sent. Only page views carry
  // them: read through events_device_type_at, so collect writes no product or category index (migration 4).
  const items = (col: 'product' | 'category', cap: number) => tx<postgres.Row[]>`
        SELECT d.id AS device_id, e.* FROM unnest(${ids}::text[]) AS d(id)
        CROSS JOIN LATERAL (
          SELECT * FROM (
            SELECT DISTINCT ON (value) id, value, at, device FROM (
              SELECT id, ${tx(col)} AS value, at, device FROM events
              WHERE site = ${site} AND device_id = d.id AND type = 'page' AND ${tx(col)} IS NOT NULL
              ORDER BY at DESC LIMIT ${ITEM_SCAN}
            ) s ORDER BY value, at DESC, id DESC
          ) u ORDER BY at DESC, id DESC LIMIT ${cap}
        ) e`;
  const touchCols = tx`id, at, body->'touch' AS touch`;
  // Only a linked device's profile carries the user's traits: never an anonymous one's.
  const traitsRead = me.user_id === null ? undefined : profileTraitsPostgres(tx, site, me.user_id);
  // Read alongside the lists below; handled now, so that a failure among them never leaves it unhandled.
  traitsRead?.catch(() => undefined);
  const [pages, products, categories, touches, firsts, lasts, opted, exposures] = await Promise.all([
    perDevice(tx`id, at, body`, tx`type = 'page'`, 'DESC', LIMITS.pageViews),
    items('product', LIMITS.products),
    items('category', LIMITS.categories),
    perDevice(touchCols, tx`type = 'touch'`, 'DESC', LIMITS.touches),
    perDevice(touchCols, tx`type = 'touch'`, 'ASC', 1),
    perDevice(touchCols, tx`type = 'touch' AND channel <> 'Direct'`, 'DESC', 1),
    tx`SELECT 1 FROM optins WHERE site = ${site} AND device_id = ANY(${ids}::text[]) LIMIT 1`,
    // A device's earliest exposures: the holdout arms of the profile (buildProfile).
    perDevice(
      // A prompt's events name their content as `variant`: the item is the prompt's id.
      tx`id, at, type, CASE WHEN type LIKE 'prompt%' THEN body->>'prompt' ELSE body->>'variant' END AS item,
            body->>'preview' AS preview`,
      tx`type = ANY(${[...EXPOSURE_TYPES]}::text[])`,
      'ASC',
      EXPOSURE_SCAN,
    ),
  ]);
  // Each row names the device it was read for (`d.id AS device_id`).
  const forDevice =
    <T>(map: (r: postgres.Row, deviceId: string) => T) =>
    (r: postgres.Row) =>
      map(r, r.device_id as string);
  return buildProfile({
    userId: me.user_id,
    kinds: new Map(devices.map((d) => [d.device_id, asKind(d.kind)])),
    pages: pages.map(forDevice(pageFromRow)),
    products: products.map(forDevice(itemFromRow)),
    categories: categories.map(forDevice(itemFromRow)),
    touches: touches.map(touchFromRow),
    firstTouches: firsts.map(touchFromRow),
    lastTouches: lasts.map(touchFromRow),
    optedIn: opted.length > 0,
    exposures: exposures.map(exposureFromRow),
    traits: await traitsRead,
  });
}

/** Store.profileVersion's read: one statement, so one snapshot. */
async function readProfileVersion(sql: Sql | Tx, site: string, deviceId: string): Promise<string> {
  const [r] = await sql<{ deleted: string; traits: string | null; devices: unknown }[]>`
    SELECT (SELECT value FROM sequences WHERE name = 'events_deleted')::text AS deleted,
      (SELECT traits FROM user_traits WHERE site = ${site} AND user_id =
        (SELECT user_id FROM devices WHERE site = ${site} AND device_id = ${deviceId})) AS traits,
      (SELECT json_agg(json_build_array(device_id, kind, user_id, profile_version::text) ORDER BY device_id) FROM (
        SELECT device_id, kind, user_id, profile_version FROM devices WHERE site = ${site} AND device_id = ${deviceId}
        UNION SELECT device_id, kind, user_id, profile_version FROM devices WHERE site = ${site} AND user_id =
          (SELECT user_id FROM devices WHERE site = ${site} AND device_id = ${deviceId})) d) AS devices`;
  const listed = (jsonColumn(r?.devices) ?? []) as [string, string | null, string | null, string][];
  const devices = listed.map(([device_id, kind, user_id, profile_version]) => ({
    device_id,
    kind,
    user_id,
    profile_version,
  }));
  return profileVersionOf(r?.deleted ?? null, r?.traits ?? null, devices);
}

/** Inserts the device if missing (true), else refreshes its kind. Runs inside the caller's transaction. */
async function upsertDevice(
  tx: Tx,
  site: string,
  deviceId: string,
  tokenHash: string,
  kind?: DeviceKind,
): Promise<boolean> {
  const now = Date.now();
  const created = await tx`
    INSERT INTO devices (site, device_id, token_hash, kind, created_at, last_seen_at)
    VALUES (${site}, ${deviceId}, ${tokenHash}, ${kind ?? null}, ${now}, ${now})
    ON CONFLICT (site, device_id) DO NOTHING
    RETURNING 1`;
  if (created.length === 1) return true;
  if (kind)
    await tx`UPDATE devices SET kind = ${kind} WHERE site = ${site} AND device_id = ${deviceId} AND kind IS DISTINCT FROM ${kind}`;
  return false;
}
