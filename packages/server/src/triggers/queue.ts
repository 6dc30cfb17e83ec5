import type { AttemptResult } from './deliver.js';

// Where delivery attempts wait. SQLite: the trigger_episodes rows themselves, polled (queue-sqlite.ts).
// PostgreSQL: pg-boss, a job per attempt (queue-pgboss.ts). Either way the row is the ledger that
// deliverOne claims: the queue decides when an attempt is tried, never whether it may send.

/** An episode whose attempt number `attempt` is due at `at` (epoch ms). */
export interface QueuedAttempt {
  site: string;
  id: string;
  attempt: number;
  at: number;
}

export interface DeliveryQueue {
  readonly kind: 'sqlite' | 'pg-boss';
  /** Hands attempts to the workers (pg-boss: a job each; SQLite: the rows are the queue, this wakes it). */
  enqueue(attempts: QueuedAttempt[]): Promise<void>;
  /**
   * One poll, every triggerPollMs. SQLite: runs the rows whose attempt is due. PostgreSQL: queues
   * again the due rows that have no live job (a crash between a status change and its job).
   */
  poll(now: number): Promise<void>;
  /** Stops taking work and waits, up to `timeoutMs`, for the attempts in flight. */
  stop(timeoutMs: number): Promise<void>;
}

/** Runs one attempt; the queue reports the result back (a retry is queued for its time). */
export type AttemptRunner = (site: string, id: string) => Promise<AttemptResult>;
