import type { Log } from '../log.js';
import type { Store } from '../store/types.js';
import type { AttemptRunner, DeliveryQueue, QueuedAttempt } from './queue.js';

// SQLite's queue is the trigger_episodes table in the same database: a row whose next_attempt_at
// has come and whose lease has run out is due. Each poll takes up to `batch` of them and runs them,
// at most `concurrency` at a time; a retry is simply the row's new next_attempt_at. A killed
// process leaves its rows leased until the lease runs out, then the next poll takes them again.

export interface SqliteQueueOptions {
  store: Store;
  run: AttemptRunner;
  log: Log;
  now?: () => number;
  concurrency?: number;
  batch?: number;
}

export function sqliteQueue(opts: SqliteQueueOptions): DeliveryQueue {
  const now = opts.now ?? Date.now;
  const concurrency = opts.concurrency ?? 4;
  const batch = opts.batch ?? 100;
  const inFlight = new Map<string, Promise<void>>();
  let stopped = false;
  let polling: Promise<void> | undefined;

  const start = (site: string, id: string) => {
    const key = `${site}\n${id}`;
    if (inFlight.has(key) || inFlight.size >= concurrency) return;
    const p = opts
      .run(site, id)
      .then(
        () => undefined,
        (e: unknown) =>
          opts.log.error(
            { event: 'webhook_attempt_error', site, episode: id, err: e instanceof Error ? e.message : String(e) },
            'delivery attempt failed',
          ),
      )
      .finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  };

  const pollOnce = async (at: number) => {
    if (stopped || inFlight.size >= concurrency) return;
    for (const due of await opts.store.dueDeliveries(at, batch)) {
      if (stopped || inFlight.size >= concurrency) break;
      start(due.site, due.id);
    }
  };

  const poll = (at: number): Promise<void> => {
    // One poll at a time: the next tick finds this one's rows leased or in flight anyway.
    polling ??= pollOnce(at).finally(() => {
      polling = undefined;
    });
    return polling;
  };

  return {
    kind: 'sqlite',
    async enqueue(attempts: QueuedAttempt[]) {
      // Due now: no need to wait for the next tick.
      if (attempts.some((a) => a.at <= now())) await poll(now());
    },
    poll,
    async stop(timeoutMs: number) {
      stopped = true;
      await polling?.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight.values()]),
        new Promise<void>((ok) => {
          timer = setTimeout(ok, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
