import type { Log } from './log.js';
import type { Store } from './store/types.js';

// Retention (CAIRN_RETENTION_DAYS): events whose time (`at`) is more than N days ago are deleted, in
// batches with a pause between them, so that on SQLite, whose writes take turns, a collect waits
// for one batch at most, never for a whole pass. Only events go, and closed trigger episodes
// (delivered, failed, cancelled: their webhook bodies hold personal data) last changed before the
// cutoff: devices, links, opt-ins (consent records) and order confirmations stay. A pass runs soon after start, then on an interval timer
// that does not keep the process alive. With N instances on PostgreSQL each runs its passes; two
// batches on the same devices take turns (the store locks the devices), so concurrent passes only
// share the work.

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  store: Store;
  /** Events older than this many days are deleted. */
  days: number;
  /** Events per DELETE statement. Default 5,000. */
  batchSize?: number;
  /** Pause between batches, in ms: other writes go in between. Default 50. */
  pauseMs?: number;
  now?: () => number;
  /** Checked between batches: true ends the pass early (the server is closing). */
  stopping?: () => boolean;
}

export interface RetentionPass {
  /** Events deleted. */
  deleted: number;
  /** DELETE statements of events run, the last of which deleted fewer than a batch. */
  batches: number;
  /** Closed trigger episodes deleted. */
  episodes: number;
}

export const DEFAULT_RETENTION_BATCH = 5_000;
/** Hourly: a day's worth of events becomes due each day, and an hour late is no matter. */
export const DEFAULT_RETENTION_INTERVAL_MS = 3_600_000;

const pause = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** One pass: deletes every event before the cutoff, then every closed episode, batch by batch, until a batch comes up short. */
export async function retentionPass(opts: RetentionOptions): Promise<RetentionPass> {
  const batchSize = opts.batchSize ?? DEFAULT_RETENTION_BATCH;
  const cutoff = (opts.now ?? Date.now)() - opts.days * DAY_MS;
  let deleted = 0;
  let batches = 0;
  for (;;) {
    const n = await opts.store.deleteEventsBefore(cutoff, batchSize);
    batches++;
    deleted += n;
    if (n < batchSize || opts.stopping?.()) break;
    await pause(opts.pauseMs ?? 50);
  }
  let episodes = 0;
  while (!opts.stopping?.()) {
    const n = await opts.store.deleteClosedEpisodesBefore(cutoff, batchSize);
    episodes += n;
    if (n < batchSize) break;
    await pause(opts.pauseMs ?? 50);
  }
  return { deleted, batches, episodes };
}

export interface Retention {
  /** Stops the timer and waits for a pass under way to end, so the store can be closed after it. */
  stop(): Promise<void>;
}

/** Runs a pass now (after the current tick) and every `intervalMs`; failures are logged, never thrown. */
export function startRetention(
  opts: RetentionOptions & { log: Log; intervalMs?: number; onPass?: (pass: RetentionPass) => void },
): Retention {
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    if (running || stopped) return; // a pass longer than the interval is not run twice at once
    running = retentionPass({ ...opts, stopping: () => stopped })
      .then(
        (pass) => {
          if (pass.deleted > 0 || pass.episodes > 0)
            opts.log.info({ days: opts.days, ...pass }, 'retention: old events and episodes deleted');
          opts.onPass?.(pass);
        },
        (err: unknown) =>
          opts.log.warn(
            { err: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : String(err) },
            'retention pass failed; retrying at the next interval',
          ),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(run, 0);
  first.unref();
  const timer = setInterval(run, opts.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
