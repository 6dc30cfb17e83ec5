// What each set of indexes on `events` costs an insert, on the database alone: the ceiling's batch
// insert (ceiling.mjs's ceilingInsert) run in a loop in this process, no HTTP, on fresh databases with the store's
// connection settings, interleaved round by round. It shows where the ceiling's ratio stops: the
// HTTP work around the insert is the same for every schema, so it dilutes what an index saves.
import { join } from 'node:path';
import { collectBodyJson } from './events.mjs';
import { ceilingInsert, openCeilingDb } from './ceiling.mjs';
import { tmpDir } from './tmp.mjs';

/** The schemas measured: migrations applied, then indexes dropped. */
export const INDEX_SETS = [
  { key: 'old', label: 'migrations 1–3', versions: 3, drop: [] },
  { key: 'today', label: 'today', versions: 'all', drop: [] },
  {
    key: 'profileOnly',
    label:
      'today without the reports’, orders’, campaign and retention indexes (primary key and events_device_type_at)',
    versions: 'all',
    drop: ['events_report', 'events_day', 'events_order', 'events_campaign'],
  },
  {
    key: 'keyOnly',
    label: 'primary key only',
    versions: 'all',
    drop: ['events_report', 'events_day', 'events_order', 'events_campaign', 'events_device_type_at'],
  },
];

/**
 * Batches of `batch` page views per second for each index set: `seconds` of inserts per set and
 * round, 100 devices in turn, fresh event ids throughout. Resolves to { key: [per round] }.
 */
export async function indexCost({ seconds = 3, rounds = 2, batch = 20 } = {}) {
  const bodies = Array.from({ length: 100 }, (_, d) => JSON.parse(collectBodyJson('bench', `dev-${d}`, 'x', 0, batch)));
  const out = Object.fromEntries(INDEX_SETS.map((s) => [s.key, []]));
  for (let round = 0; round < rounds; round++)
    for (const set of INDEX_SETS) {
      const { db, close } = await openCeilingDb(join(tmpDir(`index-cost-${set.key}`), 'c.db'), set.versions);
      try {
        for (const name of set.drop) db.exec(`DROP INDEX ${name}`);
        const insertBatch = ceilingInsert(db);
        // As collectBodyJson times a batch when it is sent: its events one second apart, up to now;
        // fresh ids throughout.
        let id = 0;
        const fresh = (events) => {
          const now = Date.now();
          return events.map((e, i) => ({ ...e, id: `r${round}-${id++}`, at: now - (events.length - i) * 1000 }));
        };
        const start = performance.now();
        let n = 0;
        while (performance.now() - start < seconds * 1000) {
          const b = bodies[n++ % bodies.length];
          insertBatch.immediate('bench', b.deviceId, fresh(b.events));
        }
        out[set.key].push(n / ((performance.now() - start) / 1000));
      } finally {
        close();
      }
    }
  return out;
}
