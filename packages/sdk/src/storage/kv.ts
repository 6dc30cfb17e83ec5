import { createStore, promisifyRequest as req } from 'idb-keyval';
import { parse } from '../json';
import type { Kv } from '../types';

// One key-value store for everything the SDK keeps on the device. Where it lives is decided once,
// at start: IndexedDB (idb-keyval, custom store cairn/kv), else localStorage, else memory. Consent
// decides whether anything persists: until it is granted, writes go to memory and are held as a
// log of updates, replayed on the persistent store when consent comes.

/** What every backend offers: a read, an atomic read-modify-write (undefined deletes), a clear. */
export interface Backend {
  g(k: string): Promise<unknown>;
  u<T>(k: string, f: (old: T | undefined) => T): Promise<T>;
  c(): Promise<unknown>;
}

type Strings = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Every localStorage key the SDK writes matches this: `cairn` (sync state), `cairn.cfg`, `cairn:*`. */
export const OURS = /^cairn([:.]|$)/;
const P = 'cairn:';
const DB = 'cairn';

/** Memory with the Storage methods; values are its own keys (methods never match OURS). */
const memory = (): Strings => {
  const m: Strings & Record<string, unknown> = {
    getItem: (k) => (m[k] as string) ?? null,
    setItem: (k, v) => void (m[k] = v),
    removeItem: (k) => void delete m[k],
  };
  return m;
};

/** localStorage or memory. Values are JSON, so a read never aliases stored data; synchronous, hence atomic in a tab. */
const strings = (s: Strings): Backend => {
  const g = (k: string) => parse(s.getItem(P + k));
  return {
    g: async (k) => g(k),
    async u(k, f) {
      const v = f(g(k));
      v === undefined ? s.removeItem(P + k) : s.setItem(P + k, JSON.stringify(v));
      return v;
    },
    c: async () => Object.keys(s).map((k) => OURS.test(k) && s.removeItem(k)),
  };
};

/** idb-keyval's custom store; `u` is one readwrite transaction, so it is atomic across tabs. */
const idb = (): Backend => {
  const s = createStore(DB, 'kv');
  return {
    g: (k) => s('readonly', (o) => req(o.get(k))),
    u: (k, f) =>
      s('readwrite', (o) =>
        req(o.get(k)).then((old) => {
          const v = f(old);
          v === undefined ? o.delete(k) : o.put(v, k);
          return req(o.transaction).then(() => v);
        }),
      ),
    c: () => s('readwrite', (o) => (o.clear(), req(o.transaction))),
  };
};

/** Where data persists. A store that throws or hangs (private modes, disabled storage) falls through to the next. */
export async function openDisk(w: Window): Promise<Backend> {
  try {
    const b = idb();
    // Some Safari versions never answer the first open: don't wait forever.
    await Promise.race([b.g(''), new Promise((_, no) => setTimeout(no, 3e3))]);
    return b;
  } catch {}
  try {
    const l = w.localStorage;
    l.setItem(P, P);
    l.removeItem(P);
    return strings(l);
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
  wipe(): Promise<void>;
}

export function createKv(w: Window): Store {
  let mem = strings(memory());
  let disk: Promise<Backend> | undefined;
  let on = false;
  let held: [string, (o: unknown) => unknown][] | false = [];
  const cur = () => (on ? disk! : Promise.resolve(mem));
  const kv: Kv = {
    get: (k) => cur().then((b) => b.g(k) as never),
    update(k, f) {
      if (!on && held) held.push([k, f as never]);
      return cur().then((b) => b.u(k, f));
    },
    set: (k, v) => kv.update(k, () => v).then(() => {}),
    del: (k) => kv.update(k, () => undefined).then(() => {}),
  };
  return {
    kv,
    grant() {
      if (!on) {
        const h = held || [];
        on = true;
        held = [];
        disk = (disk || openDisk(w)).then(async (b) => {
          for (const [k, f] of h) await b.u(k, f).catch(() => {});
          return b;
        });
      }
      return disk!;
    },
    stop(hold) {
      on = false;
      held = hold && [];
    },
    async wipe() {
      mem = strings(memory());
      if (held) held = [];
      try {
        await strings(w.localStorage).c();
      } catch {}
      // Clearing needs an open connection; without one, deleting the database writes nothing.
      if (disk) await (await disk).c();
      else
        try {
          indexedDB.deleteDatabase(DB);
        } catch {}
    },
  };
}
