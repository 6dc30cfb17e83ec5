import { Worker } from 'node:worker_threads';
import type { ReportRequest, ReportResult } from '../reports/compute.js';
import type { ReportAnswer, ReportMessage, ReportSource } from './report-thread.js';

// The reports, off the thread that serves requests. better-sqlite3 is synchronous, so a report read
// on the store's own connection would hold every collect for as long as it runs; and on either
// database, shaping a few hundred thousand rows and attributing them is seconds of JS that would
// share the event loop with collects. The worker (report-thread.ts) opens its own connection (on
// SQLite a read-only one: WAL lets it read one snapshot while the main connection goes on writing),
// reads the rows, runs the reports' typed code there, and answers with the report alone.

export interface ReportWorker {
  /** Reads and computes `request` in the worker thread; resolves to the finished report. */
  run<R extends ReportRequest>(request: R): Promise<ReportResult<R>>;
  close(): Promise<void>;
}

/**
 * The compiled worker script. Under the tests, this module runs from src/ (TypeScript, which a
 * worker thread cannot load): the worker is then dist/'s build of the same source, which the
 * tests' global setup rebuilds whenever src/ is newer.
 */
function threadScript(): URL {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith('.ts')) return new URL('./report-thread.js', here);
  return new URL(here.href.replace(/\/src\/store\/report-worker\.ts$/, '/dist/store/report-thread.js'));
}

/**
 * What a worker's uncaught error becomes: an Error with a message. One thrown as the worker starts
 * (the SqliteError of a database file that cannot be opened) reaches this thread as a plain object
 * such as `{ code: 'SQLITE_CANTOPEN' }`, which a route would turn into a bare 500 that nothing logs.
 */
export function workerError(e: unknown): Error {
  if (e instanceof Error) return e;
  const { code, message } = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; message?: unknown };
  const what = [code, message].filter((part) => typeof part === 'string' && part !== '').join(': ');
  return new Error(`the report worker failed${what ? `: ${what}` : ''}`);
}

/** A worker thread reading `source`, started at the first report; it never keeps the process alive when idle. */
export function reportWorker(source: ReportSource): ReportWorker {
  let worker: Worker | undefined;
  let closed = false;
  let next = 0;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (e: Error) => void }>();
  const failAll = (e: Error) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
    worker = undefined;
  };
  const start = (): Worker => {
    const w = new Worker(threadScript(), { workerData: source });
    w.unref();
    w.on('message', (a: ReportAnswer) => {
      const pending = waiting.get(a.id);
      waiting.delete(a.id);
      if (waiting.size === 0) w.unref();
      if ('error' in a) pending?.reject(new Error(a.error));
      else pending?.resolve(a.result);
    });
    w.on('error', (e: unknown) => failAll(workerError(e)));
    w.on('exit', (code) => {
      if (worker === w) failAll(new Error(`report worker exited (${code})`));
    });
    return w;
  };
  const send = (w: Worker, m: ReportMessage) => w.postMessage(m);
  return {
    run<R extends ReportRequest>(request: R): Promise<ReportResult<R>> {
      if (closed) return Promise.reject(new Error('the store is closed'));
      const w = (worker ??= start());
      const id = next++;
      // Referenced while a report is pending: the process waits for the answer.
      w.ref();
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (result: unknown) => void, reject });
        send(w, { id, request });
      });
    },
    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      if (!w) return;
      failAll(new Error('the store was closed'));
      // Asked to end its connection first (a PostgreSQL session ends cleanly), then stopped.
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      send(w, { close: true });
      const timer = setTimeout(() => void w.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
