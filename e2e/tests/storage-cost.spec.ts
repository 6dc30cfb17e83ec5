// What a first visit costs in storage work: the IndexedDB transactions the page opens on the demo
// home page (the page view, the touch, the page's own recently-viewed block, which reads history()
// and profile(), and whatever the SDK does by itself; nothing called from the test), until the SDK is
// idle. At most 4 transactions, and a 'readwrite' one must really write: no read that puts back what
// it read (or deletes a key that is not there). localStorage calls are counted and reported, not
// asserted. Counted through IDBDatabase.prototype.transaction, so readonly and readwrite ones: the
// versionchange transaction that creates the database is Chromium's own, and never goes through it.
import { expect, test, type Page } from '@playwright/test';
import { cairnReady } from './support/cairn';
import { query } from './support/db';
import { E2E, SYNC } from './support/env';

/** Transactions a first visit may open, in all. */
const MAX_TRANSACTIONS = 4;
/** Polls of the page and the server, 250 ms apart; quiet for QUIET polls in a row (longer than the SDK's 2 s send timer) is idle. */
const POLLS = 80;
const QUIET = 12;

/** One IndexedDB operation: `effect` tells a real write from a write-back of what the same transaction had just read. */
interface Op {
  op: 'get' | 'put' | 'delete' | 'clear';
  key: string;
  /** get: 'found' | 'missing'; put: 'changed' | 'same' (puts back what it read) | 'write' (not read first); delete: 'removed' | 'noop' (the key was not there) | 'write'; clear: 'write'. */
  effect?: string;
}
interface Tx {
  n: number;
  mode: string;
  stores: string[];
  /** ms since navigation start */
  at: number;
  state: 'open' | 'complete' | 'abort' | 'error';
  ops: Op[];
}
interface StorageCost {
  opens: string[];
  tx: Tx[];
  ls: Record<'getItem' | 'setItem' | 'removeItem', Record<string, number>>;
}

const WRITES = new Set(['changed', 'write', 'removed']);
const writes = (t: Tx) => t.ops.some((o) => WRITES.has(o.effect ?? ''));

/** Instruments IndexedDB and localStorage before any page script runs; the record is window.__storageCost. */
function instrument(): void {
  const cost: StorageCost = { opens: [], tx: [], ls: { getItem: {}, setItem: {}, removeItem: {} } };
  (window as unknown as { __storageCost: StorageCost }).__storageCost = cost;
  const byTx = new WeakMap<IDBTransaction, Tx>();
  /** What each transaction read, per key (JSON), to tell a write-back from a write. */
  const readIn = new WeakMap<IDBTransaction, Map<string, string | undefined>>();
  const keyOf = (k: unknown) => (typeof k === 'string' ? k : (JSON.stringify(k) ?? String(k)));
  const json = (v: unknown) => {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  };

  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (this: IDBFactory, name: string, version?: number) {
    cost.opens.push(name);
    return version === undefined ? open.call(this, name) : open.call(this, name, version);
  };

  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    const tx = transaction.apply(this, args);
    const rec: Tx = {
      n: cost.tx.length + 1,
      mode: tx.mode,
      stores: Array.from(tx.objectStoreNames),
      at: Math.round(performance.now()),
      state: 'open',
      ops: [],
    };
    cost.tx.push(rec);
    byTx.set(tx, rec);
    readIn.set(tx, new Map());
    tx.addEventListener('complete', () => (rec.state = 'complete'));
    tx.addEventListener('abort', () => (rec.state = 'abort'));
    tx.addEventListener('error', () => (rec.state = 'error'));
    return tx;
  } as IDBDatabase['transaction'];

  const S = IDBObjectStore.prototype;
  const { get, put, delete: del, clear } = S;
  S.get = function (this: IDBObjectStore, query: IDBValidKey | IDBKeyRange) {
    const req = get.call(this, query);
    const rec = byTx.get(this.transaction);
    const op: Op = { op: 'get', key: keyOf(query) };
    rec?.ops.push(op);
    // Registered before the caller's handlers, so the read is known before the caller writes.
    req.addEventListener('success', () => {
      op.effect = req.result === undefined ? 'missing' : 'found';
      readIn.get(this.transaction)?.set(op.key, req.result === undefined ? undefined : json(req.result));
    });
    return req;
  };
  S.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    const k = keyOf(key);
    const read = readIn.get(this.transaction);
    byTx.get(this.transaction)?.ops.push({
      op: 'put',
      key: k,
      effect: !read?.has(k) ? 'write' : read.get(k) === json(value) ? 'same' : 'changed',
    });
    return put.call(this, value, key);
  };
  S.delete = function (this: IDBObjectStore, query: IDBValidKey | IDBKeyRange) {
    const k = keyOf(query);
    const read = readIn.get(this.transaction);
    byTx.get(this.transaction)?.ops.push({
      op: 'delete',
      key: k,
      effect: !read?.has(k) ? 'write' : read.get(k) === undefined ? 'noop' : 'removed',
    });
    return del.call(this, query);
  };
  S.clear = function (this: IDBObjectStore) {
    byTx.get(this.transaction)?.ops.push({ op: 'clear', key: '*', effect: 'write' });
    return clear.call(this);
  };

  const P = Storage.prototype;
  for (const m of ['getItem', 'setItem', 'removeItem'] as const) {
    const f = P[m] as (...a: unknown[]) => unknown;
    (P as unknown as Record<string, unknown>)[m] = function (this: Storage, ...a: unknown[]) {
      if (this === window.localStorage) cost.ls[m][String(a[0])] = (cost.ls[m][String(a[0])] ?? 0) + 1;
      return f.apply(this, a);
    };
  }
}

const read = (page: Page) => page.evaluate(() => (window as unknown as { __storageCost: StorageCost }).__storageCost);

test('a first visit to the home page opens at most 4 IndexedDB transactions, and each readwrite one writes', async ({
  page,
  context,
}) => {
  await page.addInitScript(instrument);
  let collects = 0;
  page.on('requestfinished', async (r) => {
    if (r.url().startsWith(`${SYNC}/v1/collect`) && r.method() === 'POST' && (await r.response())?.status() === 202)
      collects++;
  });

  await page.goto('/');
  await cairnReady(page);
  const deviceId = (await context.cookies()).find((c) => c.name === 'cairn_id')?.value ?? '';
  expect(deviceId, 'the device id cookie').not.toBe('');

  // Idle: the server holds this device's page view and touch, no transaction is open, and the count
  // has not moved for QUIET polls in a row. Bounded: POLLS polls at most.
  const held = () =>
    query(E2E.db, 'SELECT type FROM events WHERE site = ? AND device_id = ?', E2E.site, deviceId).map((r) =>
      String(r.type),
    );
  let cost = await read(page);
  let quiet = 0;
  let last = -1;
  for (let n = 0; n < POLLS && quiet < QUIET; n++) {
    await page.waitForTimeout(250);
    cost = await read(page);
    const types = held();
    const settled = types.includes('page') && types.includes('touch') && cost.tx.every((t) => t.state !== 'open');
    quiet = settled && cost.tx.length === last ? quiet + 1 : 0;
    last = cost.tx.length;
  }
  expect(
    quiet,
    'the SDK went idle (server holds the page view and the touch, no transaction open, the count still)',
  ).toBe(QUIET);

  const lines = cost.tx.map(
    (t) =>
      `#${t.n} +${t.at}ms ${t.mode} ${t.stores.join(',')} ${t.state}: ${t.ops.map((o) => `${o.op} ${o.key}${o.effect ? ` (${o.effect})` : ''}`).join(', ') || 'no operation'}${t.mode === 'readwrite' && !writes(t) ? '  <- readwrite, writes nothing' : ''}`,
  );
  const report = [
    `IndexedDB opens: ${cost.opens.join(', ') || 'none'}`,
    `IndexedDB transactions: ${cost.tx.length} (readwrite ${cost.tx.filter((t) => t.mode === 'readwrite').length}); collect requests answered 202: ${collects}`,
    ...lines,
    `localStorage getItem: ${JSON.stringify(cost.ls.getItem)}`,
    `localStorage setItem: ${JSON.stringify(cost.ls.setItem)}`,
    `localStorage removeItem: ${JSON.stringify(cost.ls.removeItem)}`,
  ].join('\n');
  console.log(report);
  await test.info().attach('storage cost', { contentType: 'text/plain', body: report });

  expect(collects, 'collect requests answered').toBeGreaterThanOrEqual(1);
  for (const t of cost.tx.filter((x) => x.mode === 'readwrite'))
    expect.soft(writes(t), `transaction #${t.n} is readwrite and writes: ${lines[t.n - 1]}`).toBe(true);
  expect(cost.tx.length, `IndexedDB transactions on a first visit:\n${lines.join('\n')}`).toBeLessThanOrEqual(
    MAX_TRANSACTIONS,
  );
});
