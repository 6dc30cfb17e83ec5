import { createStore, promisifyRequest as req } from 'idb-keyval';
import { parse } from '../json.js';
import type { Kv } from '../types.js';

// One key-value store for everything the SDK keeps on the device. Where it lives is decided once,
// at start: IndexedDB (idb-keyval, custom store cairn/kv), else localStorage, else memory. Consent
// decides whether anything persists: until it is granted, writes go to memory and are held as a
// log of updates, replayed on the persistent store when consent comes.

/** What every backend offers: an atomic read-modify-write (undefined deletes; a read writes back what it read), a clear. */
export interface Backend {
  u<T>(k: string, f: (old: T | undefined) => T): Promise<T>;
  /** Clears; `keep`: the sync state (`cairn`) stays, as another tab may be reading it. */
  c(keep?: 1): Promise<unknown>;
}

type Strings = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
type Update = [string, (old: unknown) => unknown];
const id = <T>(x: T) => x;

/** Every localStorage key the SDK writes matches this: `cairn` (sync state), `cairn.cfg`, `cairn:*`. */
export const OURS = /^cairn([:.]|$)/;

/** Memory with the Storage methods; values are its own keys (methods never match OURS). */
const memory = (): Strings => {
  const m: Strings & Record<string, unknown> = {
    getItem: (k) => (m[k] as string) ?? null,
    setItem: (k, v) => void (m[k] = v),
    removeItem: (k) => void delete m[k],
  };
  return m;
};

/** localStorage or memory, under `cairn:`. Values are JSON, so a read never aliases stored data; synchronous, hence atomic in a tab. */
const strings = (s: Strings): Backend => ({
  async u(k, f) {
    const v = f(parse(s.getItem((k = 'cairn:' + k))));
    v == null ? s.removeItem(k) : s.setItem(k, JSON.stringify(v));
    return v;
  },
  c: async (keep) => Object.keys(s).map((k) => OURS.test(k) && !(keep && k == 'cairn') && s.removeItem(k)),
});

/** idb-keyval's custom store; `u` is one readwrite transaction, so it is atomic across tabs. */
const idb = (): Backend => {
  const s = createStore('cairn', 'kv');
  return {
    u: (k, f) =>
      s('readwrite', async (o) => {
        const v = f(await req(o.get(k)));
        v == null ? o.delete(k) : o.put(v, k);
        await req(o.transaction);
        return v;
      }),
    c: () => s('readwrite', (o) => req(o.clear())),
  };
};

/**
 * Where data persists: the first store whose probe read works. One that fails (private modes,
 * disabled storage; reading localStorage throws where storage is blocked) falls through to the next.
 * A slow IndexedDB is waited for, never timed out: a tab that gave up on it would write to
 * localStorage while the other tabs write to IndexedDB, and their page views would part ways.
 */
export async function openDisk(w: Window): Promise<Backend> {
  for (const f of [idb, () => strings(w.localStorage)])
    try {
      const b = f();
      await b.u('', id);
      return b;
    } catch {}
  return strings(memory());
}

export interface Store {
  kv: Kv;
  /** Persist from now on: what was held in memory is replayed onto the persistent store first. */
  grant(): Promise<Backend>;
  /** Stop persisting. `hold` keeps a log to replay on a later grant (pending); else nothing is kept (denied). */
  stop(hold: boolean): void;
  /** Removes everything the SDK stored on the device (IndexedDB, localStorage) and in memory. */
  wipe(keepState?: 1): Promise<void>;
}

export function createKv(w: Window): Store {
  let mem = strings(memory());
  let disk: Promise<Backend> | undefined;
  /** The persistent store (with the held updates replayed) while consent is granted. */
  let on: Promise<Backend> | 0 = 0;
  let held: Update[] | false = [];
  const update = <T>(k: string, f: (old: T | undefined) => T, read?: 1): Promise<T> => (
    on || read || !held || held.push([k, f as Update[1]]), (on || Promise.resolve(mem)).then((b) => b.u(k, f))
  );
  // A read is an update that changes nothing, and is not held for replay.
  const kv: Kv = { update, get: (k) => update(k, id, 1) as never, set: (k, v) => update(k, () => v) as never, del: (k) => update(k, () => undefined) };
  return {
    kv,
    grant() {
      if (!on) {
        const h = held || [];
        held = [];
        on = (disk ||= openDisk(w)).then(async (b) => {
          for (const [k, f] of h) await b.u(k, f).catch(() => {});
          return b;
        });
      }
      return on;
    },
    stop(hold) {
      on = 0;
      held = hold && [];
    },
    async wipe(keep) {
      mem = strings(memory());
      held &&= [];
      try {
        await strings(w.localStorage).c(keep);
      } catch {}
      // Clearing needs an open connection. Without one here, it is cleared through one when it
      // exists: a delete would wait for every other tab to close its connection, and this tab's
      // next open (a later grant) behind it. Without indexedDB.databases(), it is deleted.
      if (disk) await (await disk).c();
      else
        try {
          if (!indexedDB.databases) indexedDB.deleteDatabase('cairn');
          else if ((await indexedDB.databases()).some((d) => d.name == 'cairn')) await idb().c();
        } catch {}
    },
  };
}
