import type postgres from 'postgres';
import { logRowFromRaw, outcomeColumns, type LogRowRaw } from './deliveries-sqlite.js';
import type {
  DeliveryClaim,
  DeliveryLogRow,
  DeliveryOutcome,
  DueDelivery,
  EpisodeStatus,
  NewDelivery,
} from './types.js';

// The delivery ledger on PostgreSQL: the same conditional UPDATEs as on SQLite. Under READ COMMITTED,
// two instances claiming one row serialize on its row lock, and the second re-checks the WHERE
// against the first's committed lease: it matches nothing. That is what keeps attempts apart.

type Sql = postgres.Sql<{ bigint: number }>;

export async function claimDeliveryPg(
  sql: Sql,
  site: string,
  id: string,
  now: number,
  leaseMs: number,
): Promise<DeliveryClaim | null> {
  const [r] = await sql<
    {
      trigger_id: string;
      url: string;
      payload: string;
      attempts: number;
      first_attempt_at: number;
      lease_until: number;
    }[]
  >`
    UPDATE trigger_episodes
       SET lease_until = ${now + leaseMs}, attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, ${now}),
           updated_at = ${now}
     WHERE site = ${site} AND id = ${id} AND status IN ('pending', 'retrying') AND next_attempt_at <= ${now}
       AND (lease_until IS NULL OR lease_until <= ${now}) AND url IS NOT NULL AND payload IS NOT NULL
     RETURNING trigger_id, url, payload, attempts, first_attempt_at, lease_until`;
  if (!r) return null;
  return {
    site,
    id,
    triggerId: r.trigger_id,
    url: r.url,
    payload: r.payload,
    attempt: Number(r.attempts),
    firstAttemptAt: Number(r.first_attempt_at),
    leaseUntil: Number(r.lease_until),
  };
}

export async function deliveryStatusPg(sql: Sql, site: string, id: string): Promise<EpisodeStatus | null> {
  const [r] = await sql<
    { status: EpisodeStatus }[]
  >`SELECT status FROM trigger_episodes WHERE site = ${site} AND id = ${id}`;
  return r?.status ?? null;
}

export async function recordDeliveryPg(
  sql: Sql,
  site: string,
  id: string,
  claim: { attempt: number; leaseUntil: number },
  outcome: DeliveryOutcome,
): Promise<boolean> {
  const c = outcomeColumns(outcome);
  // A 2xx stands over a cancellation made during the send, and over a later attempt (this one's lease
  // ran out before its answer came): the receiver has it. A failure only under its own live claim.
  const where =
    outcome.kind === 'delivered'
      ? sql`status IN ('pending', 'retrying', 'cancelled')`
      : sql`attempts = ${claim.attempt} AND lease_until = ${claim.leaseUntil} AND status IN ('pending', 'retrying')`;
  const r = await sql`
    UPDATE trigger_episodes
       SET status = ${c.status}, last_status = ${c.lastStatus}, last_error = ${c.lastError},
           next_attempt_at = ${c.nextAttemptAt}, delivered_at = ${c.deliveredAt},
           reason = ${c.status === 'delivered' ? null : c.reason}::text,
           lease_until = NULL, updated_at = ${outcome.at}
     WHERE site = ${site} AND id = ${id} AND ${where}`;
  return r.count === 1;
}

export async function dueDeliveriesPg(sql: Sql, now: number, limit: number): Promise<DueDelivery[]> {
  const rows = await sql<{ site: string; id: string; attempts: number; next_attempt_at: number }[]>`
    SELECT site, id, attempts, next_attempt_at FROM trigger_episodes
     WHERE status IN ('pending', 'retrying') AND next_attempt_at <= ${now} AND (lease_until IS NULL OR lease_until <= ${now})
     ORDER BY next_attempt_at LIMIT ${limit}`;
  return rows.map((r) => ({
    site: r.site,
    id: r.id,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
  }));
}

export async function listDeliveriesPg(
  sql: Sql,
  site: string,
  opts: { status?: EpisodeStatus; limit: number },
): Promise<DeliveryLogRow[]> {
  const rows = opts.status
    ? await sql<LogRowRaw[]>`
        SELECT id, trigger_id, status, attempts, last_status, last_error, reason, person, payload, created_at, due_at,
               next_attempt_at, delivered_at, updated_at
          FROM trigger_episodes WHERE site = ${site} AND status = ${opts.status}
         ORDER BY updated_at DESC, id LIMIT ${opts.limit}`
    : await sql<LogRowRaw[]>`
        SELECT id, trigger_id, status, attempts, last_status, last_error, reason, person, payload, created_at, due_at,
               next_attempt_at, delivered_at, updated_at
          FROM trigger_episodes WHERE site = ${site} AND status <> 'open'
         ORDER BY updated_at DESC, id LIMIT ${opts.limit}`;
  return rows.map(logRowFromRaw);
}

export async function addDeliveryPg(sql: Sql, d: NewDelivery): Promise<void> {
  await sql`
    INSERT INTO trigger_episodes (site, id, trigger_id, person, status, started_at, last_at, due_at, url, payload,
      attempts, next_attempt_at, created_at, updated_at)
    VALUES (${d.site}, ${d.id}, ${d.triggerId}, ${d.person}, 'pending', ${d.startedAt}, ${d.lastAt}, ${d.nextAttemptAt},
      ${d.url}, ${d.payload}, 0, ${d.nextAttemptAt}, ${d.now}, ${d.now})`;
}
