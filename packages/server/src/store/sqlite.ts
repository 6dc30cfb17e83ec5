import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { LIMITS, type CairnEvent, type DeviceKind, type OptinBody, type Profile, type SiteConfig } from '@cairn/schema';
import { buildProfile, emptyProfile, EXPOSURE_SCAN, EXPOSURE_TYPES } from './profile.js';
import { StoreError } from './errors.js';
import { EVENT_DAY, eventDay, REPORT_INDEX_WHERE, sqliteMigrations } from './migrations.js';
import { readReportDataSqlite } from './report-queries.js';
import { computeReport, reportWindow, type ReportRequest, type ReportResult } from '../reports/compute.js';
import {
  addDeliverySqlite,
  claimDeliverySqlite,
  deliveryStatusSqlite,
  dueDeliveriesSqlite,
  listDeliveriesSqlite,
  recordDeliverySqlite,
} from './deliveries-sqlite.js';
import type {
  DeliveryClaim,
  DeliveryLogRow,
  DeliveryOutcome,
  DueDelivery,
  EpisodeStatus,
  NewDelivery,
} from './types.js';
import { reportWorker, type ReportWorker } from './report-worker.js';
import { changeTraitsSqlite, getTraitsSqlite, profileTraitsSqlite, readTraitsSqlite } from './traits-sqlite.js';
import type { StoredTraits, TraitsChange, TraitsResult } from './types.js';
import {
  deleteClosedEpisodesSqlite,
  denyDeviceSqlite,
  evaluateDueEpisodesSqlite,
  exportEpisodesSqlite,
  listEpisodesSqlite,
  noteEpisodesSqlite,
} from './triggers-sqlite.js';
import type {
  EpisodeCancelReason,
  EpisodeDecision,
  EpisodeFacts,
  EpisodeNotes,
  EpisodeRecord,
  PendingEpisode,
} from './types.js';
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
  bytesColumn,
  bytesParam,
  chunksByName,
  type ConfigRow,
  type DeviceRow,
  type EventRow,
  type FirstClaimRow,
  type LinkRow,
  type OptinRow,
  type OrderConfirmationRow,
  type ReportRowsRead,
  profileVersionOf,
  type ProfileVersionRow,
} from './rows.js';
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

/** Opens (creating the file and its directory if needed) the embedded SQLite store. */
export function openSqlite(path: string): Store {
  const file = path === ':memory:' ? path : resolve(path);
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: 10_000 });
    // WAL: readers never block the writer, and a commit is one append to the log.
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode writes every commit to the log file before the call returns, and fsyncs at
    // checkpoints. A killed process (kill -9) loses nothing acknowledged: the log is in the OS page
    // cache and recovery replays it. Only a power cut or OS crash can drop the last commits; FULL
    // would cover that too at the cost of an fsync per batch.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Deleted rows are overwritten with zeros rather than left in free space: an erasure has to
    // leave no copy of the user's data in the file (reclaimErased then empties the WAL).
    db.pragma('secure_delete = ON');
    // Checkpoints copy the WAL into the main file. SQLite's default runs one inside the commit that
    // takes the WAL past 1,000 pages: a collect pays for it, every ~4 MB. The timer below does
    // them instead; this threshold (10,000 pages, ~40 MB of WAL) is only the safety net for when
    // the timer falls behind (a long report holding the event loop).
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    // A read-only file or directory shows up here rather than at the first write.
    db.exec('BEGIN IMMEDIATE; ROLLBACK');
  } catch (e) {
    db?.close();
    throw new StoreError('unavailable', `cannot open SQLite database ${file}: ${(e as Error).message}`, { cause: e });
  }
  return new SqliteStore(
    db,
    file === ':memory:' ? () => {} : checkpointEvery(db, CHECKPOINT_INTERVAL_MS),
    // An in-memory database has no file for a second connection: its reports read on this one.
    file === ':memory:' ? null : reportWorker({ dialect: 'sqlite', file }),
  );
}

/** The WAL size (in pages) at which a commit checkpoints by itself; see openSqlite. */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** How often the WAL is checkpointed between requests. */
export const CHECKPOINT_INTERVAL_MS = 1_000;

/**
 * A PASSIVE checkpoint every `ms`, between requests rather than inside a commit: it copies what no
 * reader still needs and never waits for a lock, so a busy moment only leaves work for the next
 * tick. Unref'd: it never keeps the process alive. Returns the function that stops it.
 */
function checkpointEvery(db: Database.Database, ms: number): () => void {
  const timer = setInterval(() => {
    try {
      if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // SQLITE_BUSY or a closing database: the next tick (or the autocheckpoint) catches up.
    }
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

type Queries = ReturnType<typeof prepare>;

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly q: () => Queries;

  constructor(
    private readonly db: Database.Database,
    private readonly stopCheckpoints: () => void,
    private readonly reports: ReportWorker | null = null,
  ) {
    // Prepared lazily: the tables exist only once migrate() ran.
    this.q = lazy(() => prepare(db));
  }

  async migrate(): Promise<void> {
    const db = this.db;
    // IMMEDIATE takes the write lock before reading schema_migrations: a second instance waits
    // (busy timeout), then sees the versions the first one applied.
    db.transaction(() => {
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
      );
      const done = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
      const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
      for (const m of sqliteMigrations) {
        if (done.has(m.version)) continue;
        db.exec(m.sql);
        record.run(m.version, m.name, Date.now());
      }
    }).immediate();
  }

  async close(): Promise<void> {
    this.stopCheckpoints();
    await this.reports?.close();
    if (this.db.open) this.db.close();
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async ingest(
    site: string,
    deviceId: string,
    events: CairnEvent[],
    tokenHash: string,
    kind?: DeviceKind,
  ): Promise<IngestResult> {
    const q = this.q();
    return this.db
      .transaction((): IngestResult => {
        const newDevice = this.upsertDevice(site, deviceId, tokenHash, kind);
        let accepted = 0;
        // Serialising inside the transaction: an event that cannot be stored rolls the whole batch back.
        const rows = uniqueById(events.map(eventCols));
        // The batch's receive sequence numbers, reserved at once; the write lock (IMMEDIATE) keeps
        // them in commit order. A duplicate leaves a gap: the order matters, not the count.
        let seq = rows.length ? (q.reserveSeq.get(rows.length) as { value: number }).value - rows.length : 0;
        const claims = new Map<string, number>();
        // The stored events' first and last time: the device's bounds (the reports' activity).
        let firstAt = Infinity;
        let lastAt = -Infinity;
        for (const e of rows) {
          const stored = q.insEvent.run(
            site,
            e.id,
            deviceId,
            e.type,
            e.at,
            e.product,
            e.category,
            e.channel,
            e.device,
            e.body,
            ++seq,
            e.orderId,
          ).changes;
          accepted += stored;
          if (!stored) continue;
          if (e.at < firstAt) firstAt = e.at;
          if (e.at > lastAt) lastAt = e.at;
          if (e.orderId !== null) claims.set(e.orderId, (claims.get(e.orderId) ?? 0) + 1);
        }
        // The device's profile may have changed: a cached one is rebuilt (profileVersion).
        if (accepted) q.stored.run({ site, device: deviceId, first: firstAt, last: lastAt });
        let orderConflicts = 0;
        if (claims.size) {
          const me = (q.device.get(site, deviceId) as DeviceRow).user_id;
          for (const [orderId, n] of claims) {
            const first = q.firstClaim.get(site, orderId) as FirstClaimRow;
            if (!sameClaimer(first, deviceId, me)) orderConflicts += n;
          }
        }
        return {
          accepted,
          duplicates: events.length - accepted,
          newDevice,
          ...(orderConflicts ? { orderConflicts } : {}),
        };
      })
      .immediate();
  }

  async getDevice(site: string, deviceId: string): Promise<DeviceRecord | null> {
    const r = this.q().device.get(site, deviceId) as DeviceRow | undefined;
    return r ? deviceRecord(r) : null;
  }

  async ensureDevice(site: string, deviceId: string, tokenHash: string, kind?: DeviceKind): Promise<boolean> {
    return this.db.transaction(() => this.upsertDevice(site, deviceId, tokenHash, kind)).immediate();
  }

  async profile(site: string, deviceId: string): Promise<Profile> {
    // One read transaction: every list comes from the same snapshot.
    return this.db.transaction(() => this.readProfile(site, deviceId))();
  }

  async profileVersion(site: string, deviceId: string): Promise<string> {
    return this.db.transaction(() => this.readProfileVersion(site, deviceId))();
  }

  async versionedProfile(site: string, deviceId: string): Promise<VersionedProfile> {
    return this.db.transaction(
      (): VersionedProfile => ({
        version: this.readProfileVersion(site, deviceId),
        profile: this.readProfile(site, deviceId),
      }),
    )();
  }

  /** Store.profileVersion's read. Call inside a read transaction. */
  private readProfileVersion(site: string, deviceId: string): string {
    const q = this.q();
    const devices = q.versionDevices.all({ site, device: deviceId }) as ProfileVersionRow[];
    const userId = devices.find((d) => d.device_id === deviceId)?.user_id ?? null;
    const traits = userId === null ? null : (q.traitsText.get(site, userId) ?? null);
    return profileVersionOf(String(q.eventsDeleted.get()), traits, devices);
  }

  /** Store.profile's reads. Call inside a read transaction. */
  private readProfile(site: string, deviceId: string): Profile {
    const q = this.q();
    const devices = q.profileDevices.all(site, deviceId, site, site, deviceId) as Pick<
      DeviceRow,
      'device_id' | 'kind' | 'user_id'
    >[];
    const me = devices.find((d) => d.device_id === deviceId);
    if (!me) return emptyProfile();
    const ids = me.user_id === null ? [deviceId] : devices.map((d) => d.device_id);
    const each = <T>(
      stmt: Database.Statement,
      map: (r: Record<string, unknown>, deviceId: string) => T,
      ...limits: number[]
    ): T[] => ids.flatMap((id) => (stmt.all(site, id, ...limits) as Record<string, unknown>[]).map((r) => map(r, id)));
    return buildProfile({
      userId: me.user_id,
      kinds: new Map(devices.map((d) => [d.device_id, asKind(d.kind)])),
      pages: each(q.pages, pageFromRow, LIMITS.pageViews),
      products: each(q.products, itemFromRow, ITEM_SCAN, LIMITS.products),
      categories: each(q.categories, itemFromRow, ITEM_SCAN, LIMITS.categories),
      touches: each(q.touches, touchFromRow, LIMITS.touches),
      firstTouches: each(q.firstTouch, touchFromRow),
      lastTouches: each(q.lastTouch, touchFromRow),
      optedIn: ids.some((id) => q.optedIn.get(site, id) !== undefined),
      exposures: each(q.exposures, exposureFromRow, EXPOSURE_SCAN),
      // Only a linked device's profile carries the user's traits: never an anonymous one's.
      traits: me.user_id === null ? undefined : profileTraitsSqlite(this.db, site, me.user_id),
    });
  }

  async link(site: string, deviceId: string, userId: string, at: number, login?: LoginUse): Promise<LinkResult> {
    const q = this.q();
    return this.db
      .transaction((): LinkResult => {
        const d = q.device.get(site, deviceId) as DeviceRow | undefined;
        if (!d) throw new StoreError('unknown_device', `unknown device ${deviceId}`);
        if (d.user_id !== null && d.user_id !== userId) {
          q.audit.run(site, deviceId, userId, at, 'conflict');
          return 'conflict';
        }
        // In the write transaction (IMMEDIATE): of two devices presenting one login, the second sees the first's row.
        if (login && q.useLogin.run(site, login.tokenHash, deviceId, Math.floor(login.exp)).changes === 0) {
          const used = q.usedLogin.get(site, login.tokenHash) as { device_id: string };
          if (used.device_id !== deviceId) return 'login_used';
        }
        if (d.user_id === userId) return 'already';
        q.setUser.run(userId, site, deviceId);
        q.insUser.run(site, userId, Date.now());
        q.audit.run(site, deviceId, userId, at, 'linked');
        return 'linked';
      })
      .immediate();
  }

  async loginUsedBy(site: string, tokenHash: string): Promise<string | null> {
    const r = this.q().usedLogin.get(site, tokenHash) as { device_id: string } | undefined;
    return r ? r.device_id : null;
  }

  async pruneUsedLogins(exp: number): Promise<number> {
    return this.q().pruneLogins.run(exp).changes;
  }

  async deleteEventsBefore(cutoff: number, limit: number): Promise<number> {
    const q = this.q();
    return this.db
      .transaction((): number => {
        const gone = q.deleteOld.all(eventDay(cutoff), cutoff, limit) as [string, string][];
        // Cached profiles may hold the deleted events: each one is rebuilt (profileVersion).
        if (gone.length) {
          q.bumpEventsDeleted.run();
          // Each deleted event's [site, device]: a device named twice is one in the IN list.
          q.rebound.run({ cutoff, devices: JSON.stringify(gone) });
        }
        return gone.length;
      })
      .immediate();
  }

  async revokeDevice(site: string, deviceId: string, tokenHash: string, at: number): Promise<boolean> {
    const q = this.q();
    return this.db
      .transaction((): boolean => {
        q.insRevoked.run(site, deviceId, tokenHash, at, at, at);
        return q.revoke.run(at, site, deviceId, tokenHash).changes === 1;
      })
      .immediate();
  }

  async touchDevice(site: string, deviceId: string, at: number): Promise<void> {
    this.q().touch.run(at, site, deviceId, at);
  }

  async serverCookieDevice(site: string, secretHash: string): Promise<{ deviceId: string; boundAt: number } | null> {
    const r = this.db
      .prepare('SELECT device_id, created_at FROM server_cookies WHERE site = ? AND secret_hash = ?')
      .get(site, secretHash) as { device_id: string; created_at: number } | undefined;
    return r ? { deviceId: r.device_id, boundAt: Number(r.created_at) } : null;
  }

  async bindServerCookie(site: string, deviceId: string, secretHash: string, at: number): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO server_cookies (site, device_id, secret_hash, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (site, device_id) DO UPDATE SET secret_hash = excluded.secret_hash, created_at = excluded.created_at`,
      )
      .run(site, deviceId, secretHash, at);
  }

  async rotateServerCookie(
    site: string,
    deviceId: string,
    oldHash: string,
    newHash: string,
    newTokenHash: string,
    at: number,
  ): Promise<boolean> {
    const db = this.db;
    return db
      .transaction((): boolean => {
        // In the write transaction (IMMEDIATE): of two recoveries with one cookie, the second finds it moved.
        const bound = db
          .prepare('SELECT 1 FROM server_cookies WHERE site = ? AND device_id = ? AND secret_hash = ?')
          .get(site, deviceId, oldHash);
        if (!bound) return false;
        const token = db
          .prepare(
            'UPDATE devices SET token_hash = ?, last_seen_at = ? WHERE site = ? AND device_id = ? AND revoked_at IS NULL',
          )
          .run(newTokenHash, at, site, deviceId);
        if (token.changes !== 1) return false;
        db.prepare('UPDATE server_cookies SET secret_hash = ? WHERE site = ? AND device_id = ?').run(
          newHash,
          site,
          deviceId,
        );
        return true;
      })
      .immediate();
  }

  async unbindServerCookie(site: string, secretHash: string): Promise<void> {
    this.db.prepare('DELETE FROM server_cookies WHERE site = ? AND secret_hash = ?').run(site, secretHash);
  }

  async getConfig(site: string): Promise<StoredConfig | null> {
    const r = this.q().config.get(site) as ConfigRow | undefined;
    return r ? configFromRow(r) : null;
  }

  async putConfig(site: string, config: SiteConfig, ifMatch?: string | null): Promise<StoredConfig | 'conflict'> {
    const q = this.q();
    const json = JSON.stringify(config);
    const etag = etagOf(json);
    return this.db
      .transaction((): StoredConfig | 'conflict' => {
        if (ifMatch !== undefined) {
          const cur = q.config.get(site) as { etag: string } | undefined;
          if (ifMatch === null ? cur : !cur || !etagMatches(ifMatch, cur.etag)) return 'conflict';
        }
        const now = Date.now();
        q.putConfig.run(site, json, etag, now);
        return configFromRow({ json, etag, updated_at: now });
      })
      .immediate();
  }

  async addOptin(o: OptinBody): Promise<'created' | 'duplicate'> {
    const touch = o.touch ? JSON.stringify(o.touch) : null;
    const q = this.q();
    return this.db
      .transaction((): 'created' | 'duplicate' => {
        const r = q.insOptin.run(o.site, o.id, o.deviceId, o.email, o.consentText, o.at, o.promptId ?? null, touch);
        if (r.changes !== 1) return 'duplicate';
        // The profile's optedIn may have changed.
        q.bumpProfile.run(o.site, o.deviceId);
        return 'created';
      })
      .immediate();
  }

  async exportUser(site: string, userId: string): Promise<UserExport | null> {
    const db = this.db;
    return db.transaction((): UserExport | null => {
      if (!db.prepare('SELECT 1 FROM users WHERE site = ? AND user_id = ?').get(site, userId)) return null;
      const devices = db
        .prepare(
          'SELECT device_id, kind, created_at FROM devices WHERE site = ? AND user_id = ? ORDER BY created_at, device_id',
        )
        .all(site, userId) as DeviceRow[];
      const linked = 'SELECT device_id FROM devices WHERE site = ? AND user_id = ?';
      const events = db
        .prepare(
          `SELECT id, device_id, type, at, body FROM events WHERE site = ? AND device_id IN (${linked}) ORDER BY at, id`,
        )
        .all(site, site, userId) as EventRow[];
      const optins = db
        .prepare(`SELECT * FROM optins WHERE site = ? AND device_id IN (${linked}) ORDER BY at, id`)
        .all(site, site, userId) as OptinRow[];
      const links = db
        .prepare('SELECT device_id, at, action FROM links WHERE site = ? AND user_id = ? ORDER BY at, seq')
        .all(site, userId) as LinkRow[];
      const traits = readTraitsSqlite(db, site, userId)?.traits ?? {};
      const triggerEpisodes = exportEpisodesSqlite(
        db,
        site,
        userId,
        devices.map((d) => d.device_id),
      );
      return { ...userExportFromRows(site, userId, { links, devices, events, optins }), traits, triggerEpisodes };
    })();
  }

  async deleteUser(site: string, userId: string): Promise<boolean> {
    const db = this.db;
    const run = (sql: string, ...args: string[]) => db.prepare(sql).run(...args).changes;
    const linked = 'SELECT device_id FROM devices WHERE site = ? AND user_id = ?';
    return db
      .transaction((): boolean => {
        // Order matters: events and opt-ins are found through the devices before they are unlinked.
        const n =
          run(`DELETE FROM events WHERE site = ? AND device_id IN (${linked})`, site, site, userId) +
          run(`DELETE FROM optins WHERE site = ? AND device_id IN (${linked})`, site, site, userId) +
          run(`DELETE FROM server_cookies WHERE site = ? AND device_id IN (${linked})`, site, site, userId) +
          // Their trigger episodes, under the user's key or a device's: the payloads name products and the email.
          run(
            `DELETE FROM trigger_episodes WHERE site = ? AND (person = 'u:' || ? OR person IN (SELECT 'd:' || device_id FROM devices WHERE site = ? AND user_id = ?))`,
            site,
            userId,
            site,
            userId,
          ) +
          // Unlinked, and their profile counters raised (profileVersion): a cached profile is rebuilt
          // even if the device is linked to the same user id again.
          run(
            `UPDATE devices SET user_id = NULL, profile_version = profile_version + 1, first_event_at = NULL, last_event_at = NULL
             WHERE site = ? AND user_id = ?`,
            site,
            userId,
          ) +
          run('DELETE FROM links WHERE site = ? AND user_id = ?', site, userId) +
          run('DELETE FROM user_traits WHERE site = ? AND user_id = ?', site, userId) +
          run('DELETE FROM users WHERE site = ? AND user_id = ?', site, userId);
        return n > 0;
      })
      .immediate();
  }

  async reclaimErased(): Promise<ReclaimResult> {
    // secure_delete zeroed the deleted rows in the pages the erasure wrote to the WAL; the older
    // frames there still hold them until the WAL is checkpointed into the main file and emptied.
    const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    if (r?.busy !== 0 || r.log !== 0)
      return {
        complete: false,
        detail: `the WAL could not be emptied (a reader held it: busy=${r?.busy}, ${r?.log} frames left); the next checkpoint will`,
      };
    return { complete: true, detail: 'WAL checkpointed and truncated' };
  }

  async confirmOrder(site: string, c: OrderConfirmation): Promise<ConfirmOrderResult> {
    const q = this.q();
    return this.db
      .transaction((): ConfirmOrderResult => {
        const stored = q.insConfirmation.run(site, c.orderId, c.value, c.currency, c.deviceId, c.confirmedAt).changes;
        if (stored) return 'confirmed';
        const cur = orderConfirmationFromRow(q.confirmation.get(site, c.orderId) as OrderConfirmationRow);
        return sameConfirmation(cur, c) ? 'already' : 'conflict';
      })
      .immediate();
  }

  async reportRows(site: string, from: number, to: number): Promise<ReportRows> {
    const db = this.db;
    const bodyTypes = REPORT_BODY_TYPES.map(() => '?').join(', ');
    // The orders claimed or confirmed in the range: all their claims are read, whatever their time.
    const orderIds = `SELECT order_id FROM events WHERE site = ? AND at >= ? AND at < ? AND order_id IS NOT NULL
      UNION SELECT order_id FROM order_confirmations WHERE site = ? AND confirmed_at >= ? AND confirmed_at < ?`;
    const orderArgs = [site, from, to, site, from, to];
    // One read transaction: the devices match the events and opt-ins exactly.
    return db.transaction((): ReportRows => {
      const events = db
        .prepare(
          `SELECT id, device_id, type, at, device, CASE WHEN type IN (${bodyTypes}) THEN body END AS body
           FROM events WHERE site = ? AND at >= ? AND at < ? ORDER BY at, id`,
        )
        .all(...REPORT_BODY_TYPES, site, from, to) as ReportRowsRead['events'];
      const optins = db
        .prepare(
          'SELECT id, device_id, at, prompt_id FROM optins WHERE site = ? AND at >= ? AND at < ? ORDER BY at, id',
        )
        .all(site, from, to) as ReportRowsRead['optins'];
      const orderClaims = db
        .prepare(
          `SELECT id, order_id, device_id, at, received_seq, body FROM events
           WHERE site = ? AND order_id IS NOT NULL AND order_id IN (${orderIds}) ORDER BY received_seq`,
        )
        .all(site, ...orderArgs) as ReportRowsRead['orderClaims'];
      const orderConfirmations = db
        .prepare(
          `SELECT order_id, value, currency, device_id, confirmed_at FROM order_confirmations
           WHERE site = ? AND order_id IN (${orderIds}) ORDER BY order_id`,
        )
        .all(site, ...orderArgs) as ReportRowsRead['orderConfirmations'];
      const claimers = JSON.stringify(claimerDevices(orderClaims, orderConfirmations));
      const devices = db
        .prepare(
          `SELECT d.device_id, d.kind, d.user_id,
             (SELECT min(l.at) FROM links l WHERE l.site = d.site AND l.device_id = d.device_id AND l.user_id = d.user_id AND l.action = 'linked') AS linked_at
           FROM devices d WHERE d.site = ? AND d.device_id IN (
             SELECT device_id FROM events WHERE site = ? AND at >= ? AND at < ?
             UNION SELECT device_id FROM optins WHERE site = ? AND at >= ? AND at < ?
             UNION SELECT value FROM json_each(?))
           ORDER BY d.device_id`,
        )
        .all(site, site, from, to, site, from, to, claimers) as ReportRowsRead['devices'];
      return reportRowsFromRows({ events, optins, devices, orderClaims, orderConfirmations });
    })();
  }

  async reportData(site: string, readFrom: number, from: number, to: number): Promise<ReportData> {
    return readReportDataSqlite(this.db, { site, readFrom, from, to });
  }

  async computeReport<R extends ReportRequest>(request: R): Promise<ReportResult<R>> {
    // In the worker, on its own read-only connection: this thread goes on serving collects meanwhile.
    if (this.reports) return this.reports.run(request);
    return computeReport(request, readReportDataSqlite(this.db, { site: request.site, ...reportWindow(request) }));
  }

  async reportExposures(site: string, from: number, to: number): Promise<ReportExposures> {
    const db = this.db;
    const types = EXPOSURE_TYPES.map(() => '?').join(', ');
    // The people exposed in the range: their devices, and every device linked to the same user.
    const notPreview = `coalesce(json_type(body, '$.preview'), '') <> 'true'`;
    // REPORT_INDEX_WHERE as well: it takes the window's rows from events_report.
    const exposed = `SELECT device_id FROM events WHERE site = ? AND at >= ? AND at < ? AND ${REPORT_INDEX_WHERE} AND type IN (${types}) AND ${notPreview}`;
    const persons = `${exposed} UNION SELECT o.device_id FROM devices d JOIN devices o ON o.site = d.site AND o.user_id = d.user_id
      WHERE d.site = ? AND d.device_id IN (${exposed})`;
    const personArgs = [site, from, to, ...EXPOSURE_TYPES, site, site, from, to, ...EXPOSURE_TYPES];
    return db.transaction((): ReportExposures => {
      // Each device's first exposure of each type to each variant or prompt, over all time.
      const events = db
        .prepare(
          `SELECT id, device_id, type, at, device, body FROM (
             SELECT id, device_id, type, at, device, body, row_number() OVER (
               PARTITION BY device_id, type,
                 CASE WHEN type LIKE 'prompt%' THEN json_extract(body, '$.prompt') ELSE json_extract(body, '$.variant') END
               ORDER BY at, id) AS nth
             FROM events WHERE site = ? AND type IN (${types}) AND device_id IN (${persons})
               AND ${notPreview}
           ) WHERE nth = 1 ORDER BY at, id`,
        )
        .all(site, ...EXPOSURE_TYPES, ...personArgs) as ReportRowsRead['events'];
      const devices = db
        .prepare(
          `SELECT d.device_id, d.kind, d.user_id,
             (SELECT min(l.at) FROM links l WHERE l.site = d.site AND l.device_id = d.device_id AND l.user_id = d.user_id AND l.action = 'linked') AS linked_at
           FROM devices d WHERE d.site = ? AND d.device_id IN (${persons}) ORDER BY d.device_id`,
        )
        .all(site, ...personArgs) as ReportRowsRead['devices'];
      const rows = reportRowsFromRows({ events, devices, optins: [], orderClaims: [], orderConfirmations: [] });
      return { devices: rows.devices, events: rows.events };
    })();
  }

  // Traits (traits-sqlite.ts)
  async getTraits(site: string, userId: string): Promise<StoredTraits | null> {
    return getTraitsSqlite(this.db, site, userId);
  }
  async changeTraits(site: string, userId: string, change: TraitsChange, at: number): Promise<TraitsResult> {
    return changeTraitsSqlite(this.db, site, userId, change, at);
  }

  // Deliveries (deliveries-sqlite.ts)
  async claimDelivery(site: string, id: string, now: number, leaseMs: number): Promise<DeliveryClaim | null> {
    return claimDeliverySqlite(this.db, site, id, now, leaseMs);
  }
  async deliveryStatus(site: string, id: string): Promise<EpisodeStatus | null> {
    return deliveryStatusSqlite(this.db, site, id);
  }
  async recordDelivery(
    site: string,
    id: string,
    claim: { attempt: number; leaseUntil: number },
    outcome: DeliveryOutcome,
  ): Promise<boolean> {
    return recordDeliverySqlite(this.db, site, id, claim, outcome);
  }
  async dueDeliveries(now: number, limit: number): Promise<DueDelivery[]> {
    return dueDeliveriesSqlite(this.db, now, limit);
  }
  async listDeliveries(site: string, opts: { status?: EpisodeStatus; limit: number }): Promise<DeliveryLogRow[]> {
    return listDeliveriesSqlite(this.db, site, opts);
  }
  async addDelivery(delivery: NewDelivery): Promise<void> {
    addDeliverySqlite(this.db, delivery);
  }

  // Triggers (triggers-sqlite.ts)
  async noteEpisodes(site: string, deviceId: string, notes: EpisodeNotes, now: number): Promise<void> {
    noteEpisodesSqlite(this.db, site, deviceId, notes, now);
  }
  async evaluateDueEpisodes(
    now: number,
    limit: number,
    decide: (facts: EpisodeFacts) => Promise<EpisodeDecision>,
    onError?: (episodeId: string, error: unknown) => void,
    onCancelled?: (episodeId: string, reason: EpisodeCancelReason) => void,
  ): Promise<PendingEpisode[]> {
    return evaluateDueEpisodesSqlite(this.db, now, limit, decide, onError, onCancelled);
  }
  async denyDevice(site: string, deviceId: string, at: number): Promise<void> {
    denyDeviceSqlite(this.db, site, deviceId, at);
  }
  async listEpisodes(site: string, limit: number): Promise<EpisodeRecord[]> {
    return listEpisodesSqlite(this.db, site, limit);
  }
  async deleteClosedEpisodesBefore(cutoff: number, limit: number): Promise<number> {
    return deleteClosedEpisodesSqlite(this.db, cutoff, limit);
  }

  // SDK chunks (migration 11). Prepared at each call, not with the rest: a chunk is read from here only
  // when neither memory nor the installed build has it, and kept at start and daily.
  async keepSdkChunks(chunks: SdkChunkFile[], at: number): Promise<void> {
    const db = this.db;
    const keep = db.prepare(
      `INSERT INTO sdk_chunks (name, bytes, first_seen_at, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)`,
    );
    db.transaction(() => {
      for (const c of chunksByName(chunks)) keep.run(c.name, bytesParam(c.bytes), at, at);
    }).immediate();
  }

  async sdkChunk(name: string): Promise<Uint8Array<ArrayBuffer> | null> {
    const bytes = this.db.prepare('SELECT bytes FROM sdk_chunks WHERE name = ?').pluck().get(name) as
      | Buffer
      | undefined;
    return bytes ? bytesColumn(bytes) : null;
  }

  async pruneSdkChunks(before: number): Promise<number> {
    return this.db.prepare('DELETE FROM sdk_chunks WHERE seen_at < ?').run(before).changes;
  }

  /** Inserts the device if missing (true), else refreshes its kind. Call inside a write transaction. */
  private upsertDevice(site: string, deviceId: string, tokenHash: string, kind?: DeviceKind): boolean {
    const q = this.q();
    const now = Date.now();
    const created = q.insDevice.run(site, deviceId, tokenHash, kind ?? null, now, now).changes === 1;
    if (!created && kind) q.setKind.run(kind, site, deviceId, kind);
    return created;
  }
}

function prepare(db: Database.Database) {
  // `order` breaks ties of the same millisecond by event id, as buildProfile does (and PostgreSQL).
  const perDevice = (where: string, order: string, limit: boolean, cols: string) =>
    db.prepare(
      `SELECT ${cols} FROM events WHERE site = ? AND device_id = ? AND ${where} ORDER BY ${order}${limit ? ' LIMIT ?' : ' LIMIT 1'}`,
    );
  // A device's newest distinct products (or categories) among its newest ITEM_SCAN sightings,
  // made distinct here: only the rows the profile can use reach JS, which turning 2 × 500 rows
  // into objects made the slowest part of a profile read. With MAX(), SQLite takes the row's
  // other columns from the row holding the maximum: the newest sighting of each value, and of
  // sightings in the same millisecond the greatest event id, as buildProfile orders them.
  // Only page views carry them (eventCols): read through events_device_type_at, newest first,
  // so that collect has no product or category index to write (migration 4). Plan:
  //   SEARCH events USING INDEX events_device_type_at (site=? AND device_id=? AND type=?)
  // (test/ingest-plans.test.ts).
  const items = (col: 'product' | 'category') =>
    db.prepare(
      `SELECT id, value, at, device, MAX(printf('%020d', at) || id) FROM
         (SELECT id, ${col} AS value, at, device FROM events
          WHERE site = ? AND device_id = ? AND type = 'page' AND ${col} IS NOT NULL ORDER BY at DESC LIMIT ?)
       GROUP BY value ORDER BY at DESC, id DESC LIMIT ?`,
    );
  return {
    device: db.prepare('SELECT * FROM devices WHERE site = ? AND device_id = ?'),
    insDevice: db.prepare(
      'INSERT INTO devices (site, device_id, token_hash, kind, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, device_id) DO NOTHING',
    ),
    // A device never seen, revoked from the start: its token can never adopt it later.
    insRevoked: db.prepare(
      `INSERT INTO devices (site, device_id, token_hash, created_at, last_seen_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (site, device_id) DO NOTHING`,
    ),
    // Matches once the token is revoked too: a second logout is a no-op that succeeds.
    revoke: db.prepare(
      'UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE site = ? AND device_id = ? AND token_hash = ?',
    ),
    touch: db.prepare(
      'UPDATE devices SET last_seen_at = ? WHERE site = ? AND device_id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)',
    ),
    useLogin: db.prepare(
      'INSERT INTO used_logins (site, token_hash, device_id, exp) VALUES (?, ?, ?, ?) ON CONFLICT (site, token_hash) DO NOTHING',
    ),
    usedLogin: db.prepare('SELECT device_id FROM used_logins WHERE site = ? AND token_hash = ?'),
    pruneLogins: db.prepare('DELETE FROM used_logins WHERE exp < ?'),
    setKind: db.prepare('UPDATE devices SET kind = ? WHERE site = ? AND device_id = ? AND kind IS NOT ?'),
    setUser: db.prepare('UPDATE devices SET user_id = ? WHERE site = ? AND device_id = ?'),
    insUser: db.prepare('INSERT INTO users (site, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    audit: db.prepare('INSERT INTO links (site, device_id, user_id, at, action) VALUES (?, ?, ?, ?, ?)'),
    insEvent: db.prepare(
      `INSERT INTO events (site, id, device_id, type, at, product, category, channel, device, body, received_seq, order_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO NOTHING`,
    ),
    reserveSeq: db.prepare("UPDATE sequences SET value = value + ? WHERE name = 'events_received' RETURNING value"),
    // Store.profileVersion's parts (migration 9), and what raises them.
    bumpProfile: db.prepare(
      'UPDATE devices SET profile_version = profile_version + 1 WHERE site = ? AND device_id = ?',
    ),
    // A collect's stored events: the profile version, and the bounds of the device's events.
    stored: db.prepare(
      `UPDATE devices SET profile_version = profile_version + 1,
         first_event_at = min(coalesce(first_event_at, @first), @first), last_event_at = max(coalesce(last_event_at, @last), @last)
       WHERE site = @site AND device_id = @device`,
    ),
    // Retention's batch, found by the events' day (events_day), then their time: each one's [site, device].
    deleteOld: db
      .prepare(
        `DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE ${EVENT_DAY} <= ? AND at < ? LIMIT ?)
         RETURNING site, device_id`,
      )
      .raw(),
    // The bounds of devices whose events before @cutoff were deleted (@devices: a JSON array of [site,
    // device id]), from what is left: a last event at or after the cutoff is still there. Each device's
    // rows are read through events_device_type_at (site, device_id), whatever their time.
    rebound: db.prepare(
      `UPDATE devices SET
         first_event_at = (SELECT min(at) FROM events e WHERE e.site = devices.site AND e.device_id = devices.device_id),
         last_event_at = CASE WHEN last_event_at >= @cutoff THEN last_event_at ELSE
           (SELECT max(at) FROM events e WHERE e.site = devices.site AND e.device_id = devices.device_id) END
       WHERE (site, device_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(@devices))`,
    ),
    bumpEventsDeleted: db.prepare("UPDATE sequences SET value = value + 1 WHERE name = 'events_deleted'"),
    eventsDeleted: db.prepare("SELECT value FROM sequences WHERE name = 'events_deleted'").pluck(),
    traitsText: db.prepare('SELECT traits FROM user_traits WHERE site = ? AND user_id = ?').pluck(),
    // profileDevices' devices, with what profileVersion reads of them. Not ordered here: an ORDER BY
    // has SQLite walk the site's devices in primary-key order instead of searching devices_user.
    // Plan: SEARCH devices USING INDEX sqlite_autoindex_devices_1 (site=? AND device_id=?), then
    // SEARCH devices USING INDEX devices_user (site=? AND user_id=?) (test/ingest-plans.test.ts).
    versionDevices: db.prepare(
      `SELECT device_id, kind, user_id, profile_version FROM devices WHERE site = @site AND device_id = @device
       UNION SELECT device_id, kind, user_id, profile_version FROM devices WHERE site = @site AND user_id =
         (SELECT user_id FROM devices WHERE site = @site AND device_id = @device)`,
    ),
    // The first claim of an order in receive order, with the user its device is linked to now.
    firstClaim: db.prepare(
      `SELECT e.device_id, d.user_id FROM events e LEFT JOIN devices d ON d.site = e.site AND d.device_id = e.device_id
       WHERE e.site = ? AND e.order_id = ? ORDER BY e.received_seq LIMIT 1`,
    ),
    insConfirmation: db.prepare(
      `INSERT INTO order_confirmations (site, order_id, value, currency, device_id, confirmed_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, order_id) DO NOTHING`,
    ),
    confirmation: db.prepare(
      'SELECT order_id, value, currency, device_id, confirmed_at FROM order_confirmations WHERE site = ? AND order_id = ?',
    ),
    // The device itself, plus every device linked to the same user. A UNION, not an OR: each half
    // searches its own index (primary key, devices_user) instead of every device of the site.
    profileDevices: db.prepare(
      `SELECT device_id, kind, user_id FROM devices WHERE site = ? AND device_id = ?
       UNION SELECT device_id, kind, user_id FROM devices WHERE site = ? AND user_id =
         (SELECT user_id FROM devices WHERE site = ? AND device_id = ?)`,
    ),
    pages: perDevice("type = 'page'", 'at DESC, id DESC', true, 'id, at, body'),
    products: items('product'),
    categories: items('category'),
    touches: perDevice("type = 'touch'", 'at DESC, id DESC', true, "id, at, json_extract(body, '$.touch') AS touch"),
    firstTouch: perDevice("type = 'touch'", 'at ASC, id ASC', false, "id, at, json_extract(body, '$.touch') AS touch"),
    lastTouch: perDevice(
      "type = 'touch' AND channel <> 'Direct'",
      'at DESC, id DESC',
      false,
      "id, at, json_extract(body, '$.touch') AS touch",
    ),
    optedIn: db.prepare('SELECT 1 FROM optins WHERE site = ? AND device_id = ? LIMIT 1'),
    // A device's earliest exposures: the holdout arms of the profile (buildProfile). `+at`: the
    // device's rows are searched through events_device_type_at and sorted, never the site's events
    // walked in time order (migration 6's events_at once drew the planner there).
    exposures: perDevice(
      `type IN (${EXPOSURE_TYPES.map((t) => `'${t}'`).join(', ')})`,
      '+at ASC, id ASC',
      true,
      // A prompt's events name their content as `variant`: the item is the prompt's id.
      `id, at, type, json_extract(body, CASE WHEN type LIKE 'prompt%' THEN '$.prompt' ELSE '$.variant' END) AS item,
       json_extract(body, '$.preview') AS preview`,
    ),
    config: db.prepare('SELECT json, etag, updated_at FROM configs WHERE site = ?'),
    putConfig: db.prepare(
      `INSERT INTO configs (site, json, etag, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (site) DO UPDATE SET json = excluded.json, etag = excluded.etag, updated_at = excluded.updated_at`,
    ),
    insOptin: db.prepare(
      `INSERT INTO optins (site, id, device_id, email, consent_text, at, prompt_id, touch)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO NOTHING`,
    ),
  };
}

function lazy<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}
