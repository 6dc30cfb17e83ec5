// pg-boss installs its schema when it starts. Instances that start together on a new database must
// all come up: without serialising the starts, the losers of the install failed (a deadlock, 40P01,
// or an object the winner made), and a PgBoss whose start failed cannot start again.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLog } from '../src/log.js';
import type { Store } from '../src/store/types.js';
import { type PgBossQueueOptions, pgBossQueue, QUEUE_NAME, startLockKey } from '../src/triggers/queue-pgboss.js';
import type { DeliveryQueue } from '../src/triggers/queue.js';
import { PG_TEST_URL } from './helpers/db.js';

const admin = postgres(PG_TEST_URL, { max: 1, onnotice: () => {} });
const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});

// The queue only reads the store in poll(), which this test never calls.
const noStore = {} as Store;

/** A pg-boss schema of its own, dropped after the tests, and the queue's options on it. */
function newQueue(extra: Partial<PgBossQueueOptions> = {}): PgBossQueueOptions {
  const schema = `cairn_boss_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  return {
    databaseUrl: PG_TEST_URL,
    schema,
    store: noStore,
    run: async () => ({ result: 'skipped' as const }),
    log: silentLog,
    timeoutMs: 1000,
    ...extra,
  };
}

describe('pg-boss on a new database', () => {
  it.each([1, 2, 3])('six instances starting at once all come up, with one queue (round %i)', async () => {
    const options = newQueue();
    const started = await Promise.allSettled(Array.from({ length: 6 }, () => pgBossQueue(options)));
    const queues = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(
        started.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual([]);
      const rows = await admin.unsafe(`SELECT name FROM "${options.schema}".queue`);
      expect(rows.map((r) => r.name)).toEqual([QUEUE_NAME]);
    } finally {
      await Promise.all(queues.map((q: DeliveryQueue) => q.stop(1000)));
    }
  });

  it('a start that waits too long for a stuck peer fails saying why, and starts once the peer is gone', async () => {
    const options = newQueue({ startLockWaitMs: 200 });
    // A peer that took the start lock and hangs there.
    const peer = postgres(PG_TEST_URL, { max: 1, onnotice: () => {} });
    await peer`SELECT pg_advisory_lock(hashtext(${startLockKey(options.schema)}))`;
    try {
      await expect(pgBossQueue(options)).rejects.toThrow(/held pg-boss's start lock/);
    } finally {
      await peer.end({ timeout: 5 });
    }
    const queue = await pgBossQueue(options);
    await queue.stop(1000);
  });
});
