// Reads the sync server's SQLite file, to prove what really reached the database. better-sqlite3 is
// the server's own dependency, loaded from there; the file is opened read-only (the server uses WAL).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface Statement {
  all(...params: unknown[]): Record<string, unknown>[];
}
interface Database {
  prepare(sql: string): Statement;
  close(): void;
}
type DatabaseCtor = new (file: string, opts: { readonly: boolean; fileMustExist: boolean }) => Database;

const serverPkg = fileURLToPath(new URL('../../node_modules/@cairn/server/package.json', import.meta.url));
const Sqlite = createRequire(serverPkg)('better-sqlite3') as DatabaseCtor;

export interface EventRow {
  id: string;
  deviceId: string;
  type: string;
  at: number;
  body: Record<string, unknown>;
}

export function query(file: string, sql: string, ...params: unknown[]): Record<string, unknown>[] {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

/** Every stored event of a site, oldest first. */
export function events(file: string, site = 'demo'): EventRow[] {
  return query(file, 'SELECT id, device_id, type, at, body FROM events WHERE site = ? ORDER BY at, id', site).map(
    (r) => ({
      id: String(r.id),
      deviceId: String(r.device_id),
      type: String(r.type),
      at: Number(r.at),
      body: JSON.parse(String(r.body)) as Record<string, unknown>,
    }),
  );
}

export function optins(
  file: string,
  site = 'demo',
): { email: string; consentText: string; promptId: string | null; deviceId: string }[] {
  return query(file, 'SELECT email, consent_text, prompt_id, device_id FROM optins WHERE site = ?', site).map((r) => ({
    email: String(r.email),
    consentText: String(r.consent_text),
    promptId: r.prompt_id == null ? null : String(r.prompt_id),
    deviceId: String(r.device_id),
  }));
}

/** How many times each value occurs. */
export function tally<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
