import PgBoss from 'pg-boss';
import postgres from 'postgres';
import type { Log } from '../log.js';
import type { Store } from '../store/types.js';
import type { AttemptRunner, DeliveryQueue, QueuedAttempt } from './queue.js';

// PostgreSQL's queue: pg-boss, in its own schema, one job per attempt (singletonKey
// `<site>:<episode>:<attempt>`, startAfter = the attempt's time). The queue's 'stately' policy
// keeps at most one queued job per key, so queuing the same attempt again is a no-op. A job only
// says "try this episode now": deliverOne claims the trigger_episodes row first, so a job run
// twice (expired after a kill -9, two instances) never sends twice, nor after 'delivered'.

export const QUEUE_NAME = 'cairn-webhooks';

export interface PgBossQueueOptions {
  databaseUrl: string;
  /** pg-boss's own schema. */
  schema: string;
  store: Store;
  run: AttemptRunner;
  log: Log;
  /** The longest an attempt takes (its POST timeout): a job active longer is expired and comes back. */
  timeoutMs: number;
  now?: () => number;
  /** How often the worker asks for jobs, ms (pg-boss's minimum is 500). */
  pollMs?: number;
  concurrency?: number;
  batch?: number;
  /** The longest a start waits for another instance's (default 60 s): pg-boss installs in seconds. */
  startLockWaitMs?: number;
}

/**
 * pg-boss installs its schema when it starts, and Cairn's queue is made after. Instances starting
 * together on a new database would each try both, and the losers fail (a deadlock, or an object the
 * winner made); a PgBoss whose start failed cannot be started again. So `install` runs under a
 * session advisory lock, on a connection of its own, one instance at a time: the first installs,
 * the others find everything installed.
 * A peer stuck while holding it (frozen, or cut off without a reset) would keep every new instance
 * waiting until TCP gives up on it, so the wait is bounded and then fails the start, saying why.
 */
/** The advisory lock's key for `schema`'s pg-boss, shared by every instance starting on it. */
export const startLockKey = (schema: string): string => `cairn:pg-boss:${schema}`;

async function oneAtATime(
  databaseUrl: string,
  schema: string,
  waitMs: number,
  install: () => Promise<void>,
): Promise<void> {
  const sql = postgres(databaseUrl, {
    max: 1,
    onnotice: () => {},
    connection: { lock_timeout: Math.max(1, Math.round(waitMs)) },
  });
  const key = startLockKey(schema);
  try {
    try {
      await sql`SELECT pg_advisory_lock(hashtext(${key}))`;
    } catch (e) {
      if ((e as { code?: unknown }).code !== '55P03') throw e;
      throw new Error(
        `another instance has held pg-boss's start lock for schema "${schema}" for over ${Math.round(waitMs / 1000)} s ` +
          `(advisory lock hashtext('${key}')); if no instance is starting, end the session that holds it (pg_locks)`,
      );
    }
    try {
      await install();
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtext(${key}))`.catch(() => {});
    }
  } finally {
    // Closing the connection releases the lock too, if the unlock could not be sent.
    await sql.end({ timeout: 5 });
  }
}

interface JobData {
  site: string;
  id: string;
}

export async function pgBossQueue(opts: PgBossQueueOptions): Promise<DeliveryQueue> {
  const now = opts.now ?? Date.now;
  const boss = new PgBoss({
    connectionString: opts.databaseUrl,
    schema: opts.schema,
    max: 4,
    application_name: 'cairn-webhooks',
    // Expired jobs come back (supervise); cron schedules are not used.
    schedule: false,
    maintenanceIntervalSeconds: 30,
  });
  boss.on('error', (e: Error) => opts.log.error({ event: 'pg_boss_error', err: e.message }, 'pg-boss error'));
  try {
    await oneAtATime(opts.databaseUrl, opts.schema, opts.startLockWaitMs ?? 60_000, async () => {
      await boss.start();
      if (!(await boss.getQueue(QUEUE_NAME)))
        await boss.createQueue(QUEUE_NAME, { name: QUEUE_NAME, policy: 'stately' });
    });
  } catch (e) {
    // Its pool, if it started, goes with the failed start.
    await boss.stop({ graceful: false, wait: true, timeout: 1000 }).catch(() => {});
    throw e;
  }
  const expireInSeconds = Math.ceil(opts.timeoutMs / 1000) + 60;
  const send = async (a: QueuedAttempt) => {
    await boss.send(QUEUE_NAME, { site: a.site, id: a.id } satisfies JobData, {
      singletonKey: `${a.site}:${a.id}:${a.attempt}`,
      startAfter: new Date(a.at),
      expireInSeconds,
      // An expired job (its worker killed) is tried again; the row's lease decides whether it sends.
      retryLimit: 3,
      retryDelay: expireInSeconds,
      retentionMinutes: 60 * 24,
    });
  };

  const workerCount = opts.concurrency ?? 2;
  for (let i = 0; i < workerCount; i++) {
    await boss.work<JobData>(
      QUEUE_NAME,
      { batchSize: 1, pollingIntervalSeconds: Math.max(0.5, (opts.pollMs ?? 1000) / 1000) },
      async (jobs) => {
        for (const job of jobs) {
          const r = await opts.run(job.data.site, job.data.id);
          // The next attempt's job; if this process dies first, the poll queues it again.
          if (r.result === 'retry')
            await send({ site: job.data.site, id: job.data.id, attempt: r.attempt + 1, at: r.nextAttemptAt });
        }
      },
    );
  }

  let stopped = false;
  return {
    kind: 'pg-boss',
    async enqueue(attempts) {
      for (const a of attempts) await send(a);
    },
    async poll(at) {
      if (stopped) return;
      // Rows due with no claim: their job was lost (a crash after the row changed, before its job
      // was queued) or is waiting; queuing the same key again is a no-op in the latter case.
      for (const due of await opts.store.dueDeliveries(at, opts.batch ?? 100))
        await send({ site: due.site, id: due.id, attempt: due.attempts + 1, at: Math.min(due.nextAttemptAt, now()) });
    },
    async stop(timeoutMs) {
      stopped = true;
      await boss.stop({ graceful: true, wait: true, timeout: Math.max(1000, timeoutMs) });
    },
  };
}
