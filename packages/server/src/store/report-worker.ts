import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// The SQLite reports' reads, off the main thread: better-sqlite3 is synchronous, so a report read on
// the store's own connection would hold every collect for as long as it runs. The worker opens its
// own read-only connection to the same file; WAL lets it read one snapshot while the main
// connection goes on writing. It runs plain SQL and sends the rows back: the reports' code stays
// on the main thread, typed.

/** Runs every query of a message in one read transaction (one snapshot) and answers with their rows. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true, timeout: 10000 });
parentPort.on('message', ({ id, queries, params }) => {
  try {
    const rows = db.transaction(() => {
      const out = {};
      for (const [name, sql] of queries) out[name] = db.prepare(sql).all(params);
      return out;
    })();
    parentPort.postMessage({ id, rows });
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.message) || e) });
  }
});
`;

type Answer = { id: number; rows: Record<string, unknown[]> } | { id: number; error: string };

export interface ReadWorker {
  /** Runs `queries` (name → SQL with @named parameters) in one snapshot; resolves to their rows by name. */
  read(queries: Record<string, string>, params: Record<string, string | number>): Promise<Record<string, unknown[]>>;
  close(): Promise<void>;
}

/** A worker thread reading `file`, started at the first read; it never keeps the process alive. */
export function readWorker(file: string): ReadWorker {
  let worker: Worker | undefined;
  let next = 0;
  const waiting = new Map<number, { resolve: (rows: Record<string, unknown[]>) => void; reject: (e: Error) => void }>();
  const failAll = (e: Error) => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
    worker = undefined;
  };
  const start = (): Worker => {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
    w.unref();
    w.on('message', (a: Answer) => {
      const pending = waiting.get(a.id);
      waiting.delete(a.id);
      if (waiting.size === 0) w.unref();
      if ('error' in a) pending?.reject(new Error(a.error));
      else pending?.resolve(a.rows);
    });
    w.on('error', failAll);
    w.on('exit', (code) => failAll(new Error(`report worker exited (${code})`)));
    return w;
  };
  return {
    read(queries, params) {
      const w = (worker ??= start());
      const id = next++;
      // Referenced while a read is pending: the process waits for the answer.
      w.ref();
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, queries: Object.entries(queries), params });
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}
