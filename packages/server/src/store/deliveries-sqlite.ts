import type Database from 'better-sqlite3';
import type {
  DeliveryClaim,
  DeliveryLogRow,
  DeliveryOutcome,
  DueDelivery,
  EpisodeStatus,
  NewDelivery,
} from './types.js';

// The delivery ledger on SQLite: trigger_episodes rows, claimed with a lease by one conditional
// UPDATE. better-sqlite3 runs each statement atomically, and one process writes at a time.

export interface LogRowRaw {
  id: string;
  trigger_id: string;
  status: string;
  attempts: number | string;
  last_status: number | string | null;
  last_error: string | null;
  reason: string | null;
  person: string;
  payload: string | null;
  created_at: number | string;
  due_at: number | string | null;
  next_attempt_at: number | string | null;
  delivered_at: number | string | null;
  updated_at: number | string;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** `trigger.on` from a stored payload; null when there is none (yet) or it does not say. */
function payloadOn(payload: string | null): string | null {
  if (!payload) return null;
  try {
    const on = (JSON.parse(payload) as { trigger?: { on?: unknown } }).trigger?.on;
    return typeof on === 'string' ? on : null;
  } catch {
    return null;
  }
}

/** Shared by both dialects. */
export function logRowFromRaw(r: LogRowRaw): DeliveryLogRow {
  return {
    id: r.id,
    triggerId: r.trigger_id,
    status: r.status as EpisodeStatus,
    attempts: Number(r.attempts),
    lastStatus: num(r.last_status),
    lastError: r.last_error,
    reason: r.reason,
    person: r.person,
    on: payloadOn(r.payload),
    createdAt: Number(r.created_at),
    dueAt: num(r.due_at),
    nextAttemptAt: num(r.next_attempt_at),
    deliveredAt: num(r.delivered_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The column changes an outcome makes (shared by both dialects). */
export function outcomeColumns(o: DeliveryOutcome): {
  status: EpisodeStatus;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  reason: string | null;
} {
  if (o.kind === 'delivered')
    return {
      status: 'delivered',
      lastStatus: o.status,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: o.at,
      reason: null,
    };
  if (o.kind === 'retry')
    return {
      status: 'retrying',
      lastStatus: o.status,
      lastError: o.error,
      nextAttemptAt: o.nextAttemptAt,
      deliveredAt: null,
      reason: null,
    };
  return {
    status: 'failed',
    lastStatus: o.status,
    lastError: o.error,
    nextAttemptAt: null,
    deliveredAt: null,
    reason: 'window_expired',
  };
}

export function claimDeliverySqlite(
  db: Database.Database,
  site: string,
  id: string,
  now: number,
  leaseMs: number,
): DeliveryClaim | null {
  const r = db
    .prepare(
      `UPDATE trigger_episodes
         SET lease_until = @lease, attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, @now), updated_at = @now
       WHERE site = @site AND id = @id AND status IN ('pending', 'retrying') AND next_attempt_at <= @now
         AND (lease_until IS NULL OR lease_until <= @now) AND url IS NOT NULL AND payload IS NOT NULL
       RETURNING trigger_id, url, payload, attempts, first_attempt_at, lease_until`,
    )
    .get({ site, id, now, lease: now + leaseMs }) as
    | {
        trigger_id: string;
        url: string;
        payload: string;
        attempts: number;
        first_attempt_at: number;
        lease_until: number;
      }
    | undefined;
  if (!r) return null;
  return {
    site,
    id,
    triggerId: r.trigger_id,
    url: r.url,
    payload: r.payload,
    attempt: r.attempts,
    firstAttemptAt: r.first_attempt_at,
    leaseUntil: r.lease_until,
  };
}

export function deliveryStatusSqlite(db: Database.Database, site: string, id: string): EpisodeStatus | null {
  const r = db.prepare('SELECT status FROM trigger_episodes WHERE site = ? AND id = ?').pluck().get(site, id);
  return (r as EpisodeStatus | undefined) ?? null;
}

export function recordDeliverySqlite(
  db: Database.Database,
  site: string,
  id: string,
  claim: { attempt: number; leaseUntil: number },
  outcome: DeliveryOutcome,
): boolean {
  const c = outcomeColumns(outcome);
  // A 2xx stands over a cancellation made during the send, and over a later attempt (this one's lease
  // ran out before its answer came): the receiver has it. A failure only under its own live claim.
  const where =
    outcome.kind === 'delivered'
      ? "status IN ('pending', 'retrying', 'cancelled')"
      : "attempts = @attempt AND lease_until = @leaseUntil AND status IN ('pending', 'retrying')";
  const r = db
    .prepare(
      `UPDATE trigger_episodes
         SET status = @status, last_status = @lastStatus, last_error = @lastError, next_attempt_at = @nextAttemptAt,
             delivered_at = @deliveredAt, reason = CASE WHEN @status = 'delivered' THEN NULL ELSE COALESCE(@reason, reason) END,
             lease_until = NULL, updated_at = @at
       WHERE site = @site AND id = @id AND ${where}`,
    )
    .run({ ...c, at: outcome.at, site, id, attempt: claim.attempt, leaseUntil: claim.leaseUntil });
  return r.changes === 1;
}

export function dueDeliveriesSqlite(db: Database.Database, now: number, limit: number): DueDelivery[] {
  const rows = db
    .prepare(
      `SELECT site, id, attempts, next_attempt_at FROM trigger_episodes
       WHERE status IN ('pending', 'retrying') AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
       ORDER BY next_attempt_at LIMIT @limit`,
    )
    .all({ now, limit }) as { site: string; id: string; attempts: number; next_attempt_at: number }[];
  return rows.map((r) => ({ site: r.site, id: r.id, attempts: r.attempts, nextAttemptAt: r.next_attempt_at }));
}

const LOG_COLUMNS =
  'id, trigger_id, status, attempts, last_status, last_error, reason, person, payload, created_at, due_at, next_attempt_at, delivered_at, updated_at';

export function listDeliveriesSqlite(
  db: Database.Database,
  site: string,
  opts: { status?: EpisodeStatus; limit: number },
): DeliveryLogRow[] {
  const rows = opts.status
    ? db
        .prepare(
          `SELECT ${LOG_COLUMNS} FROM trigger_episodes WHERE site = ? AND status = ? ORDER BY updated_at DESC, id LIMIT ?`,
        )
        .all(site, opts.status, opts.limit)
    : db
        .prepare(
          `SELECT ${LOG_COLUMNS} FROM trigger_episodes WHERE site = ? AND status <> 'open' ORDER BY updated_at DESC, id LIMIT ?`,
        )
        .all(site, opts.limit);
  return (rows as LogRowRaw[]).map(logRowFromRaw);
}

export function addDeliverySqlite(db: Database.Database, d: NewDelivery): void {
  db.prepare(
    `INSERT INTO trigger_episodes (site, id, trigger_id, person, status, started_at, last_at, due_at, url, payload,
       attempts, next_attempt_at, created_at, updated_at)
     VALUES (@site, @id, @triggerId, @person, 'pending', @startedAt, @lastAt, @nextAttemptAt, @url, @payload, 0, @nextAttemptAt, @now, @now)`,
  ).run(d);
}
