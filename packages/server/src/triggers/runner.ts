import type { Log } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/types.js';
import type { BackoffOptions } from './backoff.js';
import { deliverOne, type DeliverDeps, type DeliveryMetric } from './deliver.js';
import type { DeliveryQueue } from './queue.js';
import { pgBossQueue } from './queue-pgboss.js';
import { sqliteQueue } from './queue-sqlite.js';

// The trigger runner: every triggerPollMs, evaluates the episodes that came due (triggers/episodes.ts
// makes them pending, or cancels them), hands the new deliveries to the queue, then polls the queue.
// Ticks never overlap: the next one is scheduled when this one ends.

/** Episodes evaluated and made pending: their first attempt is due at nextAttemptAt. */
export type EvaluateDue = (
  now: number,
  limit: number,
) => Promise<{ site: string; id: string; nextAttemptAt: number }[]>;

export interface RunnerOptions {
  queue: DeliveryQueue;
  evaluate?: EvaluateDue;
  log: Log;
  /** Default 5000. */
  pollMs?: number;
  now?: () => number;
  /** How many due episodes one tick evaluates. */
  batch?: number;
  /** stop() waits this long for attempts in flight; default 15 s. */
  stopTimeoutMs?: number;
}

export interface Runner {
  /** One tick now (tests; the timer calls it). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function startRunner(opts: RunnerOptions): Runner {
  const now = opts.now ?? Date.now;
  const pollMs = opts.pollMs ?? 5000;
  const batch = opts.batch ?? 100;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const tickOnce = async () => {
    if (opts.evaluate) {
      try {
        const pending = await opts.evaluate(now(), batch);
        if (pending.length)
          await opts.queue.enqueue(pending.map((p) => ({ site: p.site, id: p.id, attempt: 1, at: p.nextAttemptAt })));
      } catch (e) {
        opts.log.error(
          { event: 'trigger_evaluate_error', err: e instanceof Error ? e.message : String(e) },
          'evaluating due episodes failed',
        );
      }
    }
    try {
      await opts.queue.poll(now());
    } catch (e) {
      opts.log.error(
        { event: 'delivery_poll_error', err: e instanceof Error ? e.message : String(e) },
        'delivery poll failed',
      );
    }
  };

  const tick = (): Promise<void> => {
    running ??= tickOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void tick().finally(schedule);
    }, pollMs);
    timer.unref();
  };
  // The first tick right away: deliveries a crash left behind go out at start.
  void tick().finally(schedule);

  return {
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
      await opts.queue.stop(opts.stopTimeoutMs ?? 15_000);
    },
  };
}

export interface DeliveryOptions {
  store: Store;
  /** Each site's webhook secret (the key ring's). */
  secretFor: (site: string) => string | undefined;
  log: Log;
  metrics?: Metrics;
  evaluate?: EvaluateDue;
  /** PostgreSQL: pg-boss runs in the schema `<pgSchema>_jobs` (`cairn_jobs` without one). */
  databaseUrl?: string;
  pgSchema?: string;
  pollMs?: number;
  timeoutMs?: number;
  windowMs?: number;
  backoff?: Omit<BackoffOptions, 'windowMs'>;
  now?: () => number;
}

export interface Delivery {
  runner: Runner;
  queue: DeliveryQueue;
  stop(): Promise<void>;
}

export const DEFAULT_POLL_MS = 5000;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** pg-boss's schema beside the store's (a PostgreSQL identifier is at most 63 bytes). */
export const jobsSchema = (pgSchema: string | undefined) => `${(pgSchema ?? 'cairn').slice(0, 58)}_jobs`;

/** Starts the runner on the store's queue: SQLite's table, or pg-boss on PostgreSQL. */
export async function startDelivery(opts: DeliveryOptions): Promise<Delivery> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const deps: DeliverDeps = {
    store: opts.store,
    secretFor: opts.secretFor,
    log: opts.log,
    timeoutMs,
    backoff: { ...opts.backoff, ...(opts.windowMs !== undefined ? { windowMs: opts.windowMs } : {}) },
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.metrics ? { count: (o: DeliveryMetric) => opts.metrics?.webhookDelivery(o) } : {}),
  };
  const run = (site: string, id: string) => deliverOne(deps, site, id);
  const queue =
    opts.store.kind === 'postgres'
      ? await pgBossQueue({
          databaseUrl: opts.databaseUrl ?? '',
          schema: jobsSchema(opts.pgSchema),
          store: opts.store,
          run,
          log: opts.log,
          timeoutMs,
          pollMs,
          ...(opts.now ? { now: opts.now } : {}),
        })
      : sqliteQueue({ store: opts.store, run, log: opts.log, ...(opts.now ? { now: opts.now } : {}) });
  const runner = startRunner({
    queue,
    log: opts.log,
    pollMs,
    ...(opts.evaluate ? { evaluate: opts.evaluate } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    stopTimeoutMs: timeoutMs + 1000,
  });
  return { runner, queue, stop: () => runner.stop() };
}
