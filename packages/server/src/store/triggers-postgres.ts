import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import {
  CART_SCAN,
  episodeFromRow,
  episodeRecordFromRow,
  exportedEpisodeFromRow,
  factsFrom,
  personDevice,
  personKeys,
  personUser,
  userPerson,
  type CartRow,
  type EpisodeRow,
  type FactDeviceRow,
  type FactEventRow,
} from './trigger-rows.js';
import type {
  EpisodeCancelReason,
  EpisodeDecision,
  EpisodeFacts,
  EpisodeNotes,
  EpisodeRecord,
  ExportedEpisode,
  PendingEpisode,
} from './types.js';

// Trigger episodes on PostgreSQL, where several instances share the database: an evaluation holds its
// episode (FOR UPDATE SKIP LOCKED) in the transaction that reads its facts and writes the decision,
// so no two instances ever evaluate one episode.

type Sql = postgres.Sql<{ bigint: number }>;
type Tx = postgres.TransactionSql<{ bigint: number }>;

/** Deadlock or serialization failure: two collects of one person touched their episodes in another order. */
const retryable = (e: unknown): boolean => ['40P01', '40001'].includes((e as { code?: string }).code ?? '');

/** Every key the device's person has episodes under: its own, its user's, and the user's devices'. */
const keysOf = (tx: Tx, site: string, deviceId: string) => tx`
  SELECT 'd:' || d2.device_id FROM devices d1 JOIN devices d2
    ON d2.site = d1.site AND (d2.device_id = d1.device_id OR d2.user_id = d1.user_id)
  WHERE d1.site = ${site} AND d1.device_id = ${deviceId}
  UNION ALL SELECT 'u:' || user_id FROM devices WHERE site = ${site} AND device_id = ${deviceId} AND user_id IS NOT NULL`;

async function applyNotes(tx: Tx, site: string, deviceId: string, notes: EpisodeNotes, now: number): Promise<void> {
  for (const e of notes.extend) {
    // The NOT EXISTS keeps an event that a closed episode already covered (a batch sent again) from opening one.
    await tx`
      INSERT INTO trigger_episodes (site, id, trigger_id, person, status, started_at, last_at, due_at, created_at, updated_at)
      SELECT ${site}, ${randomUUID()}, ${e.triggerId}, p.person, 'open', ${e.firstAt}::bigint, ${e.lastAt}::bigint,
             ${e.lastAt + e.afterMs}::bigint, ${now}::bigint, ${now}::bigint
      FROM (SELECT CASE WHEN user_id IS NULL THEN 'd:' || device_id ELSE 'u:' || user_id END AS person
            FROM devices WHERE site = ${site} AND device_id = ${deviceId}) p
      WHERE NOT EXISTS (SELECT 1 FROM trigger_episodes c WHERE c.site = ${site} AND c.person = p.person
                          AND c.trigger_id = ${e.triggerId} AND c.status <> 'open' AND c.last_at >= ${e.lastAt}::bigint)
      ON CONFLICT (site, trigger_id, person) WHERE status = 'open' DO UPDATE SET
        started_at = LEAST(trigger_episodes.started_at, EXCLUDED.started_at),
        last_at = GREATEST(trigger_episodes.last_at, EXCLUDED.last_at),
        due_at = GREATEST(trigger_episodes.last_at, EXCLUDED.last_at) + ${e.afterMs}::bigint,
        updated_at = EXCLUDED.updated_at`;
  }
  for (const c of notes.cancel) {
    if (!c.triggerIds.length) continue;
    const statuses = c.undelivered ? ['open', 'pending', 'retrying'] : ['open'];
    const bound = c.until === 'started' ? tx`started_at` : tx`last_at`;
    await tx`
      UPDATE trigger_episodes SET status = 'cancelled', reason = ${c.reason}, updated_at = ${now}::bigint, next_attempt_at = NULL
      WHERE site = ${site} AND status = ANY(${statuses}::text[]) AND trigger_id = ANY(${c.triggerIds}::text[])
        AND ${bound} <= ${c.at}::bigint AND person IN (${keysOf(tx, site, deviceId)})`;
  }
}

export async function noteEpisodesPg(
  sql: Sql,
  site: string,
  deviceId: string,
  notes: EpisodeNotes,
  now: number,
): Promise<void> {
  try {
    await sql.begin((tx) => applyNotes(tx, site, deviceId, notes, now));
  } catch (e) {
    if (!retryable(e)) throw e;
    // Once more: the other collect has committed by now.
    await sql.begin((tx) => applyNotes(tx, site, deviceId, notes, now));
  }
}

/** As triggers-sqlite.ts's rekey: the user's open episode absorbs this one, or this one takes the user's key. */
async function rekey(tx: Tx, row: EpisodeRow, now: number): Promise<EpisodeRow | null> {
  const device = personDevice(row.person);
  if (device === null) return row;
  const [d] = await tx<{ user_id: string | null }[]>`
    SELECT user_id FROM devices WHERE site = ${row.site} AND device_id = ${device}`;
  if (!d?.user_id) return row;
  const person = userPerson(d.user_id);
  const merged = await tx`
    UPDATE trigger_episodes SET started_at = LEAST(started_at, ${row.started_at}::bigint),
      last_at = GREATEST(last_at, ${row.last_at}::bigint), due_at = GREATEST(due_at, ${row.due_at}::bigint),
      updated_at = ${now}::bigint
    WHERE site = ${row.site} AND trigger_id = ${row.trigger_id} AND person = ${person} AND status = 'open'`;
  // Or the user's webhook of this trigger, made when due at or after this one's last event: it read them.
  const covered = merged.count
    ? []
    : await tx`SELECT 1 FROM trigger_episodes WHERE site = ${row.site} AND trigger_id = ${row.trigger_id}
        AND person = ${person} AND status IN ('pending', 'retrying', 'delivered', 'failed')
        AND due_at >= ${row.last_at}::bigint LIMIT 1`;
  if (merged.count || covered.length) {
    await tx`UPDATE trigger_episodes SET status = 'cancelled', reason = 'merged', updated_at = ${now}::bigint
             WHERE site = ${row.site} AND id = ${row.id}`;
    return null;
  }
  await tx`UPDATE trigger_episodes SET person = ${person}, updated_at = ${now}::bigint WHERE site = ${row.site} AND id = ${row.id}`;
  return { ...row, person };
}

/**
 * As triggers-sqlite.ts's absorb: a user's episode takes in the open ones of its trigger under their
 * devices' keys. One of them held by another transaction (a collect noting the device's events, or
 * another instance evaluating it) is not skipped, which would send the user's webhook without that
 * device's views, nor waited for (a collect may hold it and then want this row): the evaluation
 * returns null and the episode is taken again at the next one.
 */
async function absorb(tx: Tx, row: EpisodeRow, now: number, merged: string[]): Promise<EpisodeRow | null> {
  const userId = personUser(row.person);
  if (userId === null) return row;
  const devicesOpen = tx`
    trigger_episodes WHERE site = ${row.site} AND trigger_id = ${row.trigger_id} AND status = 'open'
      AND person IN (SELECT 'd:' || device_id FROM devices WHERE site = ${row.site} AND user_id = ${userId})`;
  const [all] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM ${devicesOpen}`;
  const others = await tx<EpisodeRow[]>`SELECT * FROM ${devicesOpen} FOR UPDATE SKIP LOCKED`;
  if (others.length < (all?.n ?? 0)) return null;
  if (!others.length) return row;
  const wide = { ...row };
  for (const o of others) {
    wide.started_at = Math.min(Number(wide.started_at), Number(o.started_at));
    wide.last_at = Math.max(Number(wide.last_at), Number(o.last_at));
    wide.due_at = Math.max(Number(wide.due_at), Number(o.due_at));
    merged.push(o.id);
  }
  await tx`UPDATE trigger_episodes SET status = 'cancelled', reason = 'merged', updated_at = ${now}::bigint
           WHERE site = ${row.site} AND id = ANY(${merged}::text[])`;
  await tx`UPDATE trigger_episodes SET started_at = ${wide.started_at}::bigint, last_at = ${wide.last_at}::bigint,
             due_at = ${wide.due_at}::bigint, updated_at = ${now}::bigint WHERE site = ${row.site} AND id = ${row.id}`;
  return wide;
}

async function readFacts(tx: Tx, row: EpisodeRow): Promise<EpisodeFacts> {
  const site = row.site;
  const userId = personUser(row.person);
  const devices =
    userId === null
      ? await tx<FactDeviceRow[]>`SELECT device_id, kind, denied_at FROM devices
          WHERE site = ${site} AND device_id = ${personDevice(row.person) ?? ''}`
      : await tx<FactDeviceRow[]>`SELECT device_id, kind, denied_at FROM devices
          WHERE site = ${site} AND user_id = ${userId} ORDER BY device_id`;
  const ids = devices.map((d) => d.device_id);
  const since = row.started_at;
  const [views] = await tx<{ n: number }[]>`
    SELECT count(DISTINCT product)::int AS n FROM events WHERE site = ${site} AND device_id = ANY(${ids}::text[])
      AND type = 'page' AND product IS NOT NULL AND at >= ${since}::bigint`;
  const latest = await tx<FactEventRow[]>`
    SELECT type, max(at) AS at FROM events WHERE site = ${site} AND device_id = ANY(${ids}::text[])
      AND type IN ('add_to_cart', 'purchase', 'cart_emptied') AND at >= ${since}::bigint GROUP BY type`;
  const cart = await tx<CartRow[]>`
    SELECT coalesce(body->>'product', body->>'sku') AS product, at, device FROM events
    WHERE site = ${site} AND device_id = ANY(${ids}::text[]) AND type = 'add_to_cart' AND at >= ${since}::bigint
    ORDER BY at DESC LIMIT ${CART_SCAN}`;
  const [optin] = await tx<{ email: string }[]>`
    SELECT email FROM optins WHERE site = ${site} AND device_id = ANY(${ids}::text[]) ORDER BY at DESC, id LIMIT 1`;
  // A webhook on its way (pending, retrying) counts as delivered when made: the next waits out the cooldown.
  const [delivered] = await tx<{ at: number | null }[]>`
    SELECT max(coalesce(delivered_at, updated_at)) AS at FROM trigger_episodes
    WHERE site = ${site} AND status IN ('delivered', 'pending', 'retrying')
      AND person = ANY(${personKeys(userId, ids)}::text[])`;
  return factsFrom(
    episodeFromRow(row),
    userId,
    devices,
    views?.n ?? 0,
    [...latest],
    [...cart],
    optin?.email ?? null,
    delivered?.at ?? null,
  );
}

export async function evaluateDueEpisodesPg(
  sql: Sql,
  now: number,
  limit: number,
  decide: (facts: EpisodeFacts) => Promise<EpisodeDecision>,
  onError?: (episodeId: string, error: unknown) => void,
  onCancelled?: (episodeId: string, reason: EpisodeCancelReason) => void,
): Promise<PendingEpisode[]> {
  const made: PendingEpisode[] = [];
  // Episodes that failed this round, or whose devices' episodes were busy: left until the next one,
  // so one episode holds up no other.
  const passedOver: string[] = [];
  for (let i = 0; i < limit; i++) {
    let taken: string | null = null;
    // The device episodes this one absorbed: cancelled 'merged' once committed.
    const merged: string[] = [];
    try {
      const outcome = await sql.begin(
        async (tx): Promise<'none' | 'waits' | 'busy' | { cancelled: EpisodeCancelReason } | PendingEpisode> => {
          const [row] = await tx<EpisodeRow[]>`
            SELECT * FROM trigger_episodes WHERE status = 'open' AND due_at <= ${now}::bigint
              AND NOT (id = ANY(${passedOver}::text[]))
            ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`;
          if (!row) return 'none';
          taken = row.id;
          const rekeyed = await rekey(tx, row, now);
          if (!rekeyed) return { cancelled: 'merged' };
          const current = await absorb(tx, rekeyed, now, merged);
          if (!current) return 'busy';
          // Widened past now: the person was active on another device since; it waits.
          if (Number(current.due_at) > now) return 'waits';
          // One evaluation per person at a time, across instances: the second sees the first's pending
          // webhook (the cooldown). Held to the commit; nothing waited on here holds it.
          await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`${row.site}\n${current.person}`}, 0))`;
          const decision = await decide(await readFacts(tx, current));
          if (decision.status === 'cancelled') {
            await tx`UPDATE trigger_episodes SET status = 'cancelled', reason = ${decision.reason}, updated_at = ${now}::bigint
                     WHERE site = ${row.site} AND id = ${row.id}`;
            return { cancelled: decision.reason };
          }
          await tx`UPDATE trigger_episodes SET status = 'pending', url = ${decision.url}, payload = ${decision.payload},
                     next_attempt_at = ${now}::bigint, updated_at = ${now}::bigint
                   WHERE site = ${row.site} AND id = ${row.id}`;
          return { site: row.site, id: row.id, nextAttemptAt: now };
        },
      );
      if (outcome === 'none') break;
      // Counted once committed.
      for (const m of merged) onCancelled?.(m, 'merged');
      if (outcome === 'waits') continue;
      if (outcome === 'busy') {
        passedOver.push(taken ?? '');
        continue;
      }
      if ('cancelled' in outcome) onCancelled?.(taken ?? '', outcome.cancelled);
      else made.push(outcome);
    } catch (e) {
      if (taken === null) throw e;
      passedOver.push(taken);
      onError?.(taken, e);
    }
  }
  return made;
}

export async function denyDevicePg(sql: Sql, site: string, deviceId: string, at: number): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`UPDATE devices SET denied_at = coalesce(denied_at, ${at}::bigint) WHERE site = ${site} AND device_id = ${deviceId}`;
    await tx`
      UPDATE trigger_episodes SET status = 'cancelled', reason = 'denied', updated_at = ${at}::bigint, next_attempt_at = NULL
      WHERE site = ${site} AND status IN ('open', 'pending', 'retrying') AND person IN (${keysOf(tx, site, deviceId)})`;
  });
}

export async function listEpisodesPg(sql: Sql, site: string, limit: number): Promise<EpisodeRecord[]> {
  const rows = await sql<EpisodeRow[]>`
    SELECT * FROM trigger_episodes WHERE site = ${site} ORDER BY updated_at DESC, id LIMIT ${limit}`;
  return rows.map(episodeRecordFromRow);
}

/** The user's episodes for the privacy export, in its transaction. */
export async function exportEpisodesPg(
  tx: Tx,
  site: string,
  userId: string,
  deviceIds: string[],
): Promise<ExportedEpisode[]> {
  const rows = await tx<EpisodeRow[]>`
    SELECT * FROM trigger_episodes WHERE site = ${site} AND person = ANY(${personKeys(userId, deviceIds)}::text[])
    ORDER BY created_at, id`;
  return rows.map(exportedEpisodeFromRow);
}

/** Retention: up to `limit` closed episodes last changed before `cutoff`; SKIP LOCKED keeps instances' batches apart. */
export async function deleteClosedEpisodesPg(sql: Sql, cutoff: number, limit: number): Promise<number> {
  const r = await sql`
    DELETE FROM trigger_episodes WHERE (site, id) IN (
      SELECT site, id FROM trigger_episodes
       WHERE status IN ('delivered', 'failed', 'cancelled') AND updated_at < ${cutoff}::bigint
       LIMIT ${limit} FOR UPDATE SKIP LOCKED)`;
  return r.count;
}
