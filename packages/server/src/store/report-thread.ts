import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { computeReport, reportWindow, type ReportRequest } from '../reports/compute.js';
import { readReportDataPg, readReportDataSqlite, type ReportParams } from './report-queries.js';
import type { ReportData } from './types.js';

// The report worker thread (report-worker.ts starts it): it reads a report's rows on a connection
// of its own, runs the reports' typed code over them here, and posts back only the finished report.
// The rows (hundreds of thousands at a million events) never cross to the thread serving requests.

/** What the worker reads: a SQLite file (read-only) or a PostgreSQL database (one connection). */
export type ReportSource = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string; schema?: string };

export type ReportMessage = { id: number; request: ReportRequest } | { close: true };
export type ReportAnswer = { id: number; result: unknown } | { id: number; error: string };

// As postgres.ts reads them: epoch milliseconds in bigint columns, well inside Number's safe range.
const bigintAsNumber = { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) };

function reader(source: ReportSource): { read(p: ReportParams): Promise<ReportData>; close(): Promise<void> } {
  if (source.dialect === 'sqlite') {
    const db = new Database(source.file, { readonly: true, fileMustExist: true, timeout: 10_000 });
    return {
      read: async (p) => readReportDataSqlite(db, p),
      close: async () => void db.close(),
    };
  }
  const connect = () =>
    postgres(source.url, {
      max: 1,
      types: { bigint: bigintAsNumber },
      connect_timeout: 10,
      onnotice: () => undefined,
      // Named, so an operator (or a test) finds the reports' session in pg_stat_activity.
      connection: {
        application_name: `cairn-reports:${source.schema ?? 'public'}`.slice(0, 63),
        ...(source.schema ? { search_path: source.schema } : {}),
      },
    });
  let sql = connect();
  return {
    // Reads are safe to repeat. After PostgreSQL restarts or drops the connection, the client's
    // next queries fail ("CONNECTION_CLOSED", then a broken socket) before it reconnects: a report
    // that fails for anything but its SQL gets a new client and one more try.
    async read(p) {
      try {
        return await readReportDataPg(sql, p);
      } catch (e) {
        if (e instanceof postgres.PostgresError && !/^(08|57P)/.test(e.code)) throw e;
        const broken = sql;
        sql = connect();
        void broken.end({ timeout: 0 }).catch(() => undefined);
        return readReportDataPg(sql, p);
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * A full garbage collection, run when the worker falls idle: a report leaves a few hundred MB of
 * rows behind, which V8 would otherwise keep until the next report's allocations grew the heap to
 * twice that. (A worker cannot take --expose-gc on its command line; Jest gets `gc` the same way.)
 */
function collector(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // Without it, V8 collects on its own schedule.
  }
  return () => {};
}

const port = parentPort;
if (port) {
  const db = reader(workerData as ReportSource);
  // One report at a time, in arrival order: a second one waits rather than doubling the memory.
  let queue = Promise.resolve();
  let pending = 0;
  const gc = collector();
  port.on('message', (m: ReportMessage) => {
    pending++;
    queue = queue.then(async () => {
      pending--;
      if ('close' in m) {
        await db.close().catch(() => undefined);
        port.close();
        return;
      }
      try {
        const data = await db.read({ site: m.request.site, ...reportWindow(m.request) });
        port.postMessage({ id: m.id, result: computeReport(m.request, data) } satisfies ReportAnswer);
      } catch (e) {
        port.postMessage({ id: m.id, error: String((e as Error)?.message ?? e) } satisfies ReportAnswer);
      }
      // Outside this frame, which still holds the report's rows.
      if (pending === 0) setImmediate(() => pending === 0 && gc());
    });
  });
}
