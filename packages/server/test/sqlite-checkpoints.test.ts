// SQLite's checkpoints run on a timer between requests, not inside the commit of a collect: the
// WAL threshold is raised, a PASSIVE checkpoint copies the WAL into the main file on each tick,
// and closing the store stops the timer. Steps are counted with fake timers; nothing is timed.
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CairnEvent } from '@cairn/schema';
import { CHECKPOINT_INTERVAL_MS, WAL_AUTOCHECKPOINT_PAGES } from '../src/store/sqlite.js';
import { sqliteDb, type TestDb } from './helpers/db.js';

const pages = (from: number, n: number): CairnEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `ev-${(from + i).toString().padStart(6, '0')}`,
    type: 'page',
    at: 1_700_000_000_000 + from + i,
    path: `/p/${i}`,
    title: 'x'.repeat(200),
  }));

describe('SQLite checkpoints', () => {
  let db: TestDb | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await db?.cleanup();
  });

  it('copies the WAL into the main file on the timer, not at commit, and stops on close', async () => {
    vi.useFakeTimers();
    const checkpoints = vi.spyOn(Database.prototype, 'pragma');
    const passive = () => checkpoints.mock.calls.filter(([p]) => p === 'wal_checkpoint(PASSIVE)').length;
    db = sqliteDb();
    const store = await db.open();
    const file = db.options.sqlitePath as string;

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();

    // The store's own connection has the raised threshold.
    const setting = checkpoints.mock.calls.find(([p]) => String(p).startsWith('wal_autocheckpoint'));
    expect(setting?.[0]).toBe(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);

    for (let i = 0; i < 20; i++) await store.ingest('s', 'dev', pages(i * 50, 50), 'h');
    // Nothing has been copied yet: the commits only appended to the WAL.
    const before = statSync(file).size;
    expect(passive()).toBe(0);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);

    vi.advanceTimersByTime(CHECKPOINT_INTERVAL_MS);
    expect(passive()).toBe(1);
    // The events are now in the main file.
    expect(statSync(file).size).toBeGreaterThan(before);

    vi.advanceTimersByTime(CHECKPOINT_INTERVAL_MS * 3);
    expect(passive()).toBe(4);

    await store.close();
    vi.advanceTimersByTime(CHECKPOINT_INTERVAL_MS * 5);
    expect(passive()).toBe(4);
    expect(vi.getTimerCount()).toBe(0);
  });
});
