import { parse } from '../json.js';
import type { Kv } from '../types.js';

// One key-value store for everything the SDK keeps on the device. Where it lives is decided once,
// at start: IndexedDB (database `cairn`, object store `kv`), else localStorage, else memory.
// Consent decides whether anything persists: until it is granted, writes go to memory and are held
// as a log of updates, replayed on the persistent store when consent comes.
//
// Every operation issued while the previous batch runs (or while the database opens) joins the
// next batch, and a batch is one IndexedDB transaction: readonly when it only reads, readwrite when
// it writes, and it writes only the keys whose value changed. A first page view (history, outbox,
// device id, prompts, the outbox read for sending) so costs one or two transactions, not fifteen.
// idb-keyval, used before, opens one readwrite transaction per call and has no mixed batches.

/** One operation: `update` is absent for a read. Settled with what it read or wrote. */
interface Operation {
  _key: string;
  _update?: (old: unknown) => unknown;
  _resolve: (value: unknown) => void;
  _reject: (error: unknown) => void;
}

/** A place to run batches: each runs its operations in order, atomically. */
export interface Backend {
  _run(batch: Operation[]): Promise<void>;
  /** Clears; `keepState`: the sync state (`cairn`) stays, as another tab may be reading it. */
  _clear(keepState?: 1): Promise<unknown>;
}

type Strings = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
type HeldUpdate = [string, (old: unknown) => unknown];

/** Every localStorage key the SDK writes matches this: `cairn` (sync state), `cairn.cfg`, `cairn:*`. */
export const OURS = /^cairn([:.]|$)/;

/**
 * Applies a batch to values read by `read`: each update sees the ones before it. Returns the keys
 * changed, with their values, and the settling of every operation, to call once the batch is stored.
 */
const apply = (batch: Operation[], read: (key: string) => unknown): [Map<string, unknown>, () => void] => {
  const values = new Map<string, unknown>();
  const changed = new Map<string, unknown>();
  const settle: (() => void)[] = [];
  for (const operation of batch) {
    const key = operation._key;
    if (!values.has(key)) values.set(key, read(key));
    const old = values.get(key);
    if (!operation._update) {
      settle.push(() => operation._resolve(old));
      continue;
    }
    try {
      // An update that throws changes nothing and rejects alone.
      const value = operation._update(old);
      // An object may have been changed in place: it is written. A primitive, only when it differs.
      if (value !== old || (value && typeof value == 'object')) values.set(key, value), changed.set(key, value);
      settle.push(() => operation._resolve(value));
    } catch (error) {
      settle.push(() => operation._reject(error));
    }
  }
  return [changed, () => settle.forEach((f) => f())];
};

/** Memory with the Storage methods; values are its own keys (methods never match OURS). */
const memory = (): Strings => {
  const map: Strings & Record<string, unknown> = {
    getItem: (key) => (map[key] as string) ?? null,
    setItem: (key, value) => void (map[key] = value),
    removeItem: (key) => void delete map[key],
  };
  return map;
};

/** localStorage or memory, under `cairn:`. Values are JSON, so a read never aliases stored data; synchronous, hence atomic in a tab. */
const strings = (storage: Strings): Backend => ({
  async _run(batch) {
    const [changed, settle] = apply(batch, (key) => parse(storage.getItem('cairn:' + key)));
    changed.forEach((value, key) =>
      value == null ? storage.removeItem('cairn:' + key) : storage.setItem('cairn:' + key, JSON.stringify(value)),
    );
    settle();
  },
  _clear: async (keepState) =>
    Object.keys(storage).map((key) => OURS.test(key) && !(keepState && key == 'cairn') && storage.removeItem(key)),
});

const request = <T>(r: IDBRequest<T> | IDBTransaction) =>
  new Promise<T>((resolve, reject) => {
    // Requests settle with success/error, transactions with complete/abort.
    (r as IDBTransaction).oncomplete = (r as IDBRequest).onsuccess = () => resolve((r as IDBRequest<T>).result);
    (r as IDBTransaction).onabort = r.onerror = () => reject(r.error);
  });

/** Opens (creating if needed) the database `cairn` with its one object store `kv`. */
const openDatabase = (): Promise<IDBDatabase> => {
  const open = indexedDB.open('cairn');
  open.onupgradeneeded = () => open.result.createObjectStore('kv');
  return request(open);
};

/** IndexedDB: each batch is one transaction, so it is atomic across tabs. */
const indexed = (database: IDBDatabase): Backend => {
  const transaction = (mode: IDBTransactionMode) => {
    const t = database.transaction('kv', mode);
    return [t, t.objectStore('kv')] as const;
  };
  return {
    async _run(batch) {
      const writes = batch.some((operation) => operation._update);
      const [t, store] = transaction(writes ? 'readwrite' : 'readonly');
      const keys = [...new Set(batch.map((operation) => operation._key))];
      // Every key read at once, then the updates applied in order, then only changed keys written.
      const olds = await Promise.all(keys.map((key) => request(store.get(key))));
      const [changed, settle] = apply(batch, (key) => olds[keys.indexOf(key)]);
      changed.forEach((value, key) => (value == null ? store.delete(key) : store.put(value, key)));
      // Settled once stored: when the transaction aborts, this rejects and so does every operation.
      if (writes) await request(t);
      settle();
    },
    _clear: async () => {
      const [t, store] = transaction('readwrite');
      store.clear();
      await request(t);
    },
  };
};

/**
 * Where data persists: IndexedDB when it opens (private modes and disabled storage fail to), else
 * localStorage (reading it throws where storage is blocked), else memory. A slow IndexedDB is
 * waited for, never timed out: a tab that gave up on it would write to localStorage while the other
 * tabs write to IndexedDB, and their page views would part ways.
 */
export async function openDisk(w: Window): Promise<Backend> {
  try {
    return indexed(await openDatabase());
  } catch {}
  try {
    w.localStorage.getItem('cairn');
    return strings(w.localStorage);
  } catch {}
  return strings(memory());
}

export interface DeviceStorage {
  kv: Kv;
  /** Persist from now on: what was held in memory is replayed onto the persistent store first. */
  grant(): Promise<Backend>;
  /** Stop persisting. `hold` keeps a log to replay on a later grant (pending); else nothing is kept (denied). */
  stop(hold: boolean): void;
  /** Removes everything the SDK stored on the device (IndexedDB, localStorage) and in memory. */
  wipe(keepState?: 1): Promise<void>;
}

export function createKv(w: Window): DeviceStorage {
  let inMemory = strings(memory());
  let disk: Promise<Backend> | undefined;
  /** The persistent store (with the held updates replayed) while consent is granted. */
  let persistent: Promise<Backend> | 0 = 0;
  let held: HeldUpdate[] | false = [];
  /** Operations waiting for the next batch; the drain running; the batch in flight; a wipe under way. */
  const queue: Operation[] = [];
  let running: Promise<unknown> | 0 = 0;
  let current: Promise<unknown> = Promise.resolve();
  let barrier: Promise<unknown> = Promise.resolve();

  /** Runs a batch, never rejecting: a failure rejects its operations. */
  const run = async (batch: Operation[]) => {
    // Decided as it runs: an update that ran in memory is held for a later grant, one that runs
    // after the grant is not (it would be applied twice).
    const onDisk = persistent;
    const backend = await (onDisk || inMemory);
    if (!onDisk && held) for (const o of batch) if (o._update) held.push([o._key, o._update]);
    await backend._run(batch).catch((error) => batch.map((operation) => operation._reject(error)));
  };

  const drain = (): Promise<unknown> => {
    if (!running)
      running = (async () => {
        // Each pass takes everything queued so far; operations queued meanwhile wait for the next,
        // and all of them for a wipe begun before they were issued.
        for (let batch; (await barrier, (batch = queue.splice(0)))[0]; ) await (current = run(batch));
      })().finally(() => (running = 0));
    return running;
  };

  const enqueue = <T>(key: string, update?: (old: T | undefined) => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({
        _key: key,
        _update: update as Operation['_update'],
        _resolve: resolve as Operation['_resolve'],
        _reject: reject,
      });
      // A microtask later, so that everything issued in this task joins the same batch.
      Promise.resolve().then(drain);
    });

  const kv: Kv = {
    update: enqueue,
    get: (key) => enqueue(key),
    set: (key, value) => enqueue(key, () => value).then(() => {}),
    del: (key) => enqueue(key, () => undefined).then(() => {}),
  };
  return {
    kv,
    grant() {
      if (!persistent) {
        persistent = (disk ||= openDisk(w)).then(async (backend) => {
          // What ran in memory until now: no batch runs in memory once `persistent` is set.
          const replay = held || [];
          held = [];
          if (replay[0])
            await backend
              ._run(
                replay.map(([key, update]) => ({ _key: key, _update: update, _resolve: () => {}, _reject: () => {} })),
              )
              .catch(() => {});
          return backend;
        });
      }
      return persistent;
    },
    stop(hold) {
      persistent = 0;
      held = hold && [];
    },
    wipe(keepState) {
      // What was issued before the wipe lands first, and goes with it; what is issued after waits for
      // it, so a new device's first writes are never wiped.
      const earlier = queue.splice(0);
      return (barrier = (async () => {
        await current;
        if (earlier[0]) await run(earlier);
        inMemory = strings(memory());
        held &&= [];
        try {
          await strings(w.localStorage)._clear(keepState);
        } catch {}
        // Clearing needs an open connection. Without one here, it is cleared through one when it
        // exists: a delete would wait for every other tab to close its connection, and this tab's
        // next open (a later grant) behind it. Without indexedDB.databases(), it is deleted.
        if (disk) await (await disk)._clear();
        else
          try {
            if (!indexedDB.databases) indexedDB.deleteDatabase('cairn');
            else if ((await indexedDB.databases()).some((d) => d.name == 'cairn'))
              await indexed(await openDatabase())._clear();
          } catch {}
      })().catch(() => {}));
    },
  };
}
