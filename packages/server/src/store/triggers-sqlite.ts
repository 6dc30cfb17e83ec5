import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
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

// Trigger episodes on SQLite. One process writes the file at a time (IMMEDIATE transactions); an
// evaluation reads its facts in one transaction, decides outside it (the decision is async), and
// writes its result only if the episode is still as it read it.

/** Every key the device's person has episodes under (site, device_id, site, device_id). */
const KEYS_OF = `SELECT 'd:' || d2.device_id FROM devices d1 JOIN devices d2
    ON d2.site = d1.site AND (d2.device_id = d1.device_id OR d2.user_id = d1.user_id)
  WHERE d1.site = ? AND d1.device_id = ?
  UNION ALL SELECT 'u:' || user_id FROM devices WHERE site = ? AND device_id = ? AND user_id IS NOT NULL`;

const statements = new WeakMap<Database.Database, ReturnType<typeof prepare>>();
function q(db: Database.Database): ReturnType<typeof prepare> {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
}

function prepare(db: Database.Database) {
  const cancel = (undelivered: boolean, until: 'started' | 'last') =>
    db.prepare(
      `UPDATE trigger_episodes SET status = 'cancelled', reason = ?, updated_at = ?, next_attempt_at = NULL
       WHERE site = ? AND status IN (${undelivered ? "'open', 'pending', 'retrying'" : "'open'"})
         AND trigger_id IN (SELECT value FROM json_each(?)) AND ${until === 'started' ? 'started_at' : 'last_at'} <= ?
         AND person IN (${KEYS_OF})`,
    );
  return {
    // The WHERE keeps an event that a closed episode already covered (a batch sent again) from opening one.
    extend: db.prepare(
      `INSERT INTO trigger_episodes (site, id, trigger_id, person, status, started_at, last_at, due_at, created_at, updated_at)
       SELECT @site, @id, @trigger, p.person, 'open', @first, @last, @last + @after, @now, @now
       FROM (SELECT CASE WHEN user_id IS NULL THEN 'd:' || device_id ELSE 'u:' || user_id END AS person
             FROM devices WHERE site = @site AND device_id = @device) p
       WHERE NOT EXISTS (SELECT 1 FROM trigger_episodes c WHERE c.site = @site AND c.person = p.person AND c.trigger_id = @trigger
                           AND c.status <> 'open' AND c.last_at >= @last)
       ON CONFLICT (site, trigger_id, person) WHERE status = 'open' DO UPDATE SET
         started_at = min(started_at, excluded.started_at),
         last_at = max(last_at, excluded.last_at),
         due_at = max(last_at, excluded.last_at) + @after,
         updated_at = excluded.updated_at`,
    ),
    cancel: {
      open: { started: cancel(false, 'started'), last: cancel(false, 'last') },
      undelivered: { started: cancel(true, 'started'), last: cancel(true, 'last') },
    },
    due: db.prepare(`SELECT * FROM trigger_episodes WHERE status = 'open' AND due_at <= ? ORDER BY due_at LIMIT ?`),
    episode: db.prepare(`SELECT * FROM trigger_episodes WHERE site = ? AND id = ?`),
    userOf: db.prepare(`SELECT user_id FROM devices WHERE site = ? AND device_id = ?`).pluck(),
    mergeInto: db.prepare(
      `UPDATE trigger_episodes SET started_at = min(started_at, ?), last_at = max(last_at, ?), due_at = max(due_at, ?),
         updated_at = ? WHERE site = ? AND trigger_id = ? AND person = ? AND status = 'open'`,
    ),
    // The user's webhook of this trigger, made when due at or after `last_at`: it read every linked device's events by then.
    covered: db
      .prepare(
        `SELECT 1 FROM trigger_episodes WHERE site = ? AND trigger_id = ? AND person = ?
           AND status IN ('pending', 'retrying', 'delivered', 'failed') AND due_at >= ? LIMIT 1`,
      )
      .pluck(),
    // The open episodes of this trigger under the user's devices' own keys (noted before they were linked).
    deviceOpen: db.prepare(
      `SELECT * FROM trigger_episodes WHERE site = ? AND trigger_id = ? AND status = 'open'
         AND person IN (SELECT 'd:' || device_id FROM devices WHERE site = ? AND user_id = ?)`,
    ),
    widen: db.prepare(
      `UPDATE trigger_episodes SET started_at = ?, last_at = ?, due_at = ?, updated_at = ? WHERE site = ? AND id = ?`,
    ),
    setStatus: db.prepare(
      `UPDATE trigger_episodes SET status = 'cancelled', reason = ?, updated_at = ? WHERE site = ? AND id = ? AND status = 'open'`,
    ),
    rekey: db.prepare(
      `UPDATE trigger_episodes SET person = ?, updated_at = ? WHERE site = ? AND id = ? AND status = 'open'`,
    ),
    userDevices: db.prepare(
      `SELECT device_id, kind, denied_at FROM devices WHERE site = ? AND user_id = ? ORDER BY device_id`,
    ),
    device: db.prepare(`SELECT device_id, kind, denied_at FROM devices WHERE site = ? AND device_id = ?`),
    productViews: db
      .prepare(
        `SELECT count(DISTINCT product) FROM events WHERE site = ? AND device_id IN (SELECT value FROM json_each(?))
           AND type = 'page' AND product IS NOT NULL AND at >= ?`,
      )
      .pluck(),
    latest: db.prepare(
      `SELECT type, max(at) AS at FROM events WHERE site = ? AND device_id IN (SELECT value FROM json_each(?))
         AND type IN ('add_to_cart', 'purchase', 'cart_emptied') AND at >= ? GROUP BY type`,
    ),
    cart: db.prepare(
      `SELECT coalesce(json_extract(body, '$.product'), json_extract(body, '$.sku')) AS product, at, device FROM events
       WHERE site = ? AND device_id IN (SELECT value FROM json_each(?)) AND type = 'add_to_cart' AND at >= ?
       ORDER BY at DESC LIMIT ${CART_SCAN}`,
    ),
    email: db
      .prepare(
        `SELECT email FROM optins WHERE site = ? AND device_id IN (SELECT value FROM json_each(?)) ORDER BY at DESC, id LIMIT 1`,
      )
      .pluck(),
    // A webhook on its way (pending, retrying) counts as delivered when made: the next waits out the cooldown.
    lastDelivered: db
      .prepare(
        `SELECT max(coalesce(delivered_at, updated_at)) FROM trigger_episodes
         WHERE site = ? AND status IN ('delivered', 'pending', 'retrying') AND person IN (SELECT value FROM json_each(?))`,
      )
      .pluck(),
    // Written only if the episode is still the one the facts were read for.
    resolve: db.prepare(
      `UPDATE trigger_episodes SET status = ?, reason = ?, url = ?, payload = ?, next_attempt_at = ?, updated_at = ?
       WHERE site = ? AND id = ? AND status = 'open' AND person = ? AND started_at = ? AND last_at = ? AND due_at <= ?`,
    ),
    denyCancel: db.prepare(
      `UPDATE trigger_episodes SET status = 'cancelled', reason = 'denied', updated_at = ?, next_attempt_at = NULL
       WHERE site = ? AND status IN ('open', 'pending', 'retrying') AND person IN (${KEYS_OF})`,
    ),
    deny: db.prepare(`UPDATE devices SET denied_at = coalesce(denied_at, ?) WHERE site = ? AND device_id = ?`),
    exported: db.prepare(
      `SELECT * FROM trigger_episodes WHERE site = ? AND person IN (SELECT value FROM json_each(?)) ORDER BY created_at, id`,
    ),
    list: db.prepare(`SELECT * FROM trigger_episodes WHERE site = ? ORDER BY updated_at DESC, id LIMIT ?`),
  };
}

export function noteEpisodesSqlite(
  db: Database.Database,
  site: string,
  deviceId: string,
  notes: EpisodeNotes,
  now: number,
): void {
  const s = q(db);
  db.transaction(() => {
    for (const e of notes.extend) {
      s.extend.run({
        site,
        id: randomUUID(),
        trigger: e.triggerId,
        first: e.firstAt,
        last: e.lastAt,
        after: e.afterMs,
        now,
        device: deviceId,
      });
    }
    for (const c of notes.cancel) {
      if (!c.triggerIds.length) continue;
      s.cancel[c.undelivered ? 'undelivered' : 'open'][c.until].run(
        c.reason,
        now,
        site,
        JSON.stringify(c.triggerIds),
        c.at,
        site,
        deviceId,
        site,
        deviceId,
      );
    }
  }).immediate();
}

/**
 * Re-keys a 'd:' episode to its device's user once linked, or merges it into the user's open one
 * (that one widened to cover it, this one cancelled 'merged'), or into the user's webhook of the
 * same trigger made since its last event (which read this device's events too). Resolves to the
 * episode as it now is, or null when it was merged.
 */
function rekey(db: Database.Database, row: EpisodeRow, now: number): EpisodeRow | null {
  const s = q(db);
  const device = personDevice(row.person);
  const userId = device === null ? null : (s.userOf.get(row.site, device) as string | null | undefined);
  if (!userId) return row;
  const person = userPerson(userId);
  const merged = s.mergeInto.run(
    row.started_at,
    row.last_at,
    row.due_at,
    now,
    row.site,
    row.trigger_id,
    person,
  ).changes;
  if (merged || s.covered.get(row.site, row.trigger_id, person, row.last_at)) {
    s.setStatus.run('merged', now, row.site, row.id);
    return null;
  }
  s.rekey.run(person, now, row.site, row.id);
  return { ...row, person };
}

/**
 * A user's episode absorbs the open ones of the same trigger under their devices' keys (a phone's,
 * noted while anonymous): it widens to cover them, and they are cancelled 'merged', their ids pushed
 * to `merged`. The person's last event is then the latest of all, so the episode may not be due yet.
 */
function absorb(db: Database.Database, row: EpisodeRow, now: number, merged: string[]): EpisodeRow {
  const s = q(db);
  const userId = personUser(row.person);
  if (userId === null) return row;
  const others = s.deviceOpen.all(row.site, row.trigger_id, row.site, userId) as EpisodeRow[];
  if (!others.length) return row;
  const wide = { ...row };
  for (const o of others) {
    wide.started_at = Math.min(Number(wide.started_at), Number(o.started_at));
    wide.last_at = Math.max(Number(wide.last_at), Number(o.last_at));
    wide.due_at = Math.max(Number(wide.due_at), Number(o.due_at));
    s.setStatus.run('merged', now, row.site, o.id);
    merged.push(o.id);
  }
  s.widen.run(wide.started_at, wide.last_at, wide.due_at, now, row.site, row.id);
  return wide;
}

function readFacts(db: Database.Database, row: EpisodeRow): EpisodeFacts {
  const s = q(db);
  const episode = episodeFromRow(row);
  const userId = personUser(row.person);
  const devices = (
    userId === null ? s.device.all(row.site, personDevice(row.person)) : s.userDevices.all(row.site, userId)
  ) as FactDeviceRow[];
  const ids = JSON.stringify(devices.map((d) => d.device_id));
  return factsFrom(
    episode,
    userId,
    devices,
    s.productViews.get(row.site, ids, row.started_at) as number,
    s.latest.all(row.site, ids, row.started_at) as FactEventRow[],
    s.cart.all(row.site, ids, row.started_at) as CartRow[],
    (s.email.get(row.site, ids) as string | undefined) ?? null,
    (s.lastDelivered.get(
      row.site,
      JSON.stringify(
        personKeys(
          userId,
          devices.map((d) => d.device_id),
        ),
      ),
    ) as number | null) ?? null,
  );
}

export async function evaluateDueEpisodesSqlite(
  db: Database.Database,
  now: number,
  limit: number,
  decide: (facts: EpisodeFacts) => Promise<EpisodeDecision>,
  onError?: (episodeId: string, error: unknown) => void,
  onCancelled?: (episodeId: string, reason: EpisodeCancelReason) => void,
): Promise<PendingEpisode[]> {
  const s = q(db);
  const due = s.due.all(now, limit) as EpisodeRow[];
  const made: PendingEpisode[] = [];
  for (const { site, id } of due) {
    try {
      const merged: string[] = [];
      const outcome = await evaluateOne(db, site, id, now, decide, merged);
      for (const m of merged) onCancelled?.(m, 'merged');
      if (outcome && 'cancelled' in outcome) onCancelled?.(id, outcome.cancelled);
      else if (outcome) made.push(outcome);
    } catch (e) {
      onError?.(id, e);
    }
  }
  return made;
}

async function evaluateOne(
  db: Database.Database,
  site: string,
  id: string,
  now: number,
  decide: (facts: EpisodeFacts) => Promise<EpisodeDecision>,
  merged: string[],
): Promise<PendingEpisode | { cancelled: EpisodeCancelReason } | null> {
  const s = q(db);
  // Re-read in a write transaction: a collect may have extended or cancelled it meanwhile.
  const facts = db
    .transaction((): EpisodeFacts | 'merged' | null => {
      const fresh = s.episode.get(site, id) as EpisodeRow | undefined;
      if (fresh?.status !== 'open' || Number(fresh.due_at) > now) return null;
      const row = rekey(db, fresh, now);
      if (!row) return 'merged';
      const wide = absorb(db, row, now, merged);
      // Widened past now: the person was active on another device since; it waits.
      return Number(wide.due_at) > now ? null : readFacts(db, wide);
    })
    .immediate();
  if (facts === 'merged') return { cancelled: 'merged' };
  if (!facts) return null;
  const decision = await decide(facts);
  const e = facts.episode;
  const pending = decision.status === 'pending';
  // Only if it is still the episode the facts were read for (a collect may have extended it meanwhile).
  const changed = s.resolve.run(
    decision.status,
    pending ? null : decision.reason,
    pending ? decision.url : null,
    pending ? decision.payload : null,
    pending ? now : null,
    now,
    site,
    id,
    e.person,
    e.startedAt,
    e.lastAt,
    now,
  ).changes;
  if (!changed) return null;
  return decision.status === 'pending' ? { site, id, nextAttemptAt: now } : { cancelled: decision.reason };
}

export function denyDeviceSqlite(db: Database.Database, site: string, deviceId: string, at: number): void {
  const s = q(db);
  db.transaction(() => {
    s.deny.run(at, site, deviceId);
    s.denyCancel.run(at, site, site, deviceId, site, deviceId);
  }).immediate();
}

export function listEpisodesSqlite(db: Database.Database, site: string, limit: number): EpisodeRecord[] {
  return (q(db).list.all(site, limit) as EpisodeRow[]).map(episodeRecordFromRow);
}

/** The user's episodes for the privacy export (call inside its read transaction). */
export function exportEpisodesSqlite(
  db: Database.Database,
  site: string,
  userId: string,
  deviceIds: string[],
): ExportedEpisode[] {
  const keys = JSON.stringify(personKeys(userId, deviceIds));
  return (q(db).exported.all(site, keys) as EpisodeRow[]).map(exportedEpisodeFromRow);
}

/** Retention: up to `limit` closed episodes last changed before `cutoff`, deleted in one statement. */
export function deleteClosedEpisodesSqlite(db: Database.Database, cutoff: number, limit: number): number {
  return db
    .prepare(
      `DELETE FROM trigger_episodes WHERE rowid IN (SELECT rowid FROM trigger_episodes
         WHERE status IN ('delivered', 'failed', 'cancelled') AND updated_at < ? LIMIT ?)`,
    )
    .run(cutoff, limit).changes;
}
