// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { createKv, openDisk, type Backend } from '../src/storage/kv';
import { idCookie } from '../src/storage/device-id';
import { freshDevice, idbDump, rawPut, settle } from './core-helpers';

beforeEach(freshDevice);

const withoutIdb = async <T>(f: () => Promise<T>): Promise<T> => {
  const saved = globalThis.indexedDB;
  (globalThis as { indexedDB?: unknown }).indexedDB = undefined;
  try {
    return await f();
  } finally {
    globalThis.indexedDB = saved;
  }
};

/** A window whose localStorage throws, like some private modes and disabled storage. */
const noLocalStorage = () =>
  new Proxy(window, {
    get: (t, k) => {
      if (k === 'localStorage') throw new DOMException('denied', 'SecurityError');
      return Reflect.get(t, k);
    },
  }) as Window;

/** Writes one value straight through a backend, as one batch of one update. */
const put = (backend: Backend, key: string, value: unknown) =>
  new Promise((resolve, reject) =>
    backend._run([{ _key: key, _update: () => value, _resolve: resolve, _reject: reject }]),
  );

describe('backends', () => {
  test('IndexedDB when it works: values land in the cairn/kv store', async () => {
    const { kv, grant } = createKv(window);
    await grant();
    await kv.set('a', { n: 1 });
    expect(await kv.get('a')).toEqual({ n: 1 });
    expect(await idbDump()).toEqual({ a: { n: 1 } });
    expect(localStorage.length).toBe(0);
  });

  test('no IndexedDB: falls back to localStorage', async () => {
    await withoutIdb(async () => {
      const { kv, grant } = createKv(window);
      await grant();
      await kv.set('a', [1, 2]);
      expect(JSON.parse(localStorage.getItem('cairn:a')!)).toEqual([1, 2]);
      expect(await kv.update<number[]>('a', (o = []) => [...o, 3])).toEqual([1, 2, 3]);
      await kv.del('a');
      expect(localStorage.getItem('cairn:a')).toBeNull();
    });
  });

  test('IndexedDB open failing (private mode) also falls back', async () => {
    const saved = indexedDB.open;
    indexedDB.open = () => {
      throw new DOMException('no', 'InvalidStateError');
    };
    try {
      const b = await openDisk(window);
      await put(b, 'k', 5);
      expect(localStorage.getItem('cairn:k')).toBe('5');
    } finally {
      indexedDB.open = saved;
    }
  });

  test('a slow IndexedDB is waited for, never given up for localStorage (tabs would write to different stores)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const open = indexedDB.open.bind(indexedDB);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // An open request that only starts once released, as on a busy machine.
    indexedDB.open = ((name: string) => {
      const slow = {} as IDBOpenDBRequest & Record<string, unknown>;
      void gate.then(() => {
        const r = open(name);
        r.onupgradeneeded = (e) => (Object.assign(slow, { result: r.result }), slow.onupgradeneeded?.call(r, e));
        r.onsuccess = (e) => (Object.assign(slow, { result: r.result }), slow.onsuccess?.call(r, e));
        r.onerror = (e) => (Object.assign(slow, { error: r.error }), slow.onerror?.call(r, e));
      });
      return slow;
    }) as typeof indexedDB.open;
    try {
      const disk = openDisk(window);
      // Far longer than any time-out would allow.
      await vi.advanceTimersByTimeAsync(60_000);
      release();
      const b = await disk;
      await put(b, 'k', 1);
      expect(await idbDump()).toEqual({ k: 1 });
      expect(localStorage.length).toBe(0);
    } finally {
      indexedDB.open = open;
      vi.useRealTimers();
    }
  });

  test('neither IndexedDB nor localStorage: memory, still working', async () => {
    await withoutIdb(async () => {
      const { kv, grant } = createKv(noLocalStorage());
      await grant();
      await kv.set('a', 'x');
      expect(await kv.get('a')).toBe('x');
      expect(await kv.update<number>('n', (n = 0) => n + 1)).toBe(1);
    });
  });

  test('corrupt localStorage values read as missing', async () => {
    await withoutIdb(async () => {
      localStorage.setItem('cairn:a', '{broken');
      const { kv, grant } = createKv(window);
      await grant();
      expect(await kv.get('a')).toBeUndefined();
    });
  });
});

describe('atomic updates', () => {
  test('two "tabs" (two connections) incrementing one counter in parallel lose nothing', async () => {
    const a = createKv(window);
    const b = createKv(window);
    await Promise.all([a.grant(), b.grant()]);
    const inc = (n = 0) => n + 1;
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).kv.update<number>('n', inc)),
    );
    expect(await a.kv.get('n')).toBe(60);
    // Each update saw a distinct previous value: the counter values handed out are exactly 1..60.
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  test('an updater that throws writes nothing', async () => {
    const { kv, grant } = createKv(window);
    await grant();
    await kv.set('a', 1);
    await expect(
      kv.update('a', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await kv.get('a')).toBe(1);
  });
});

describe('batches: one transaction for what is issued together', () => {
  /** Counts the transactions opened, by mode, and the writes made in them. */
  const countTransactions = () => {
    const modes: string[] = [];
    const writes = { n: 0 };
    const original = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      // fake-indexeddb opens its upgrades through here too; a browser does not.
      if (args[1] !== ('versionchange' as never)) modes.push(String(args[1] ?? 'readonly'));
      return original.apply(this, args);
    };
    const put = IDBObjectStore.prototype.put;
    const del = IDBObjectStore.prototype.delete;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      writes.n++;
      return put.apply(this, args);
    };
    IDBObjectStore.prototype.delete = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['delete']>) {
      writes.n++;
      return del.apply(this, args);
    };
    const restore = () => {
      IDBDatabase.prototype.transaction = original;
      IDBObjectStore.prototype.put = put;
      IDBObjectStore.prototype.delete = del;
    };
    return { modes, writes, restore };
  };

  test('updates and reads issued in one task share one readwrite transaction, each seeing the ones before it', async () => {
    const { kv, grant } = createKv(window);
    await grant();
    const counted = countTransactions();
    try {
      const results = await Promise.all([
        kv.update<number>('n', (n = 0) => n + 1),
        kv.update<number>('n', (n = 0) => n + 10),
        kv.get('n'),
        kv.set('other', 'x'),
        kv.get('missing'),
      ]);
      expect(results).toEqual([1, 11, 11, undefined, undefined]);
      expect(counted.modes).toEqual(['readwrite']);
      // Two keys changed: two writes, not one per update.
      expect(counted.writes.n).toBe(2);
    } finally {
      counted.restore();
    }
    expect(await idbDump()).toEqual({ n: 11, other: 'x' });
  });

  test('reads alone are readonly and never write back', async () => {
    const { kv, grant } = createKv(window);
    await grant();
    await kv.set('a', { n: 1 });
    const counted = countTransactions();
    try {
      expect(await Promise.all([kv.get('a'), kv.get('b')])).toEqual([{ n: 1 }, undefined]);
      expect(counted.modes).toEqual(['readonly']);
      expect(counted.writes.n).toBe(0);
    } finally {
      counted.restore();
    }
  });

  test('operations issued while the database opens wait for it, and run as one batch', async () => {
    const s = createKv(window);
    const counted = countTransactions();
    try {
      s.grant();
      const done = Promise.all([
        s.kv.update('h', () => ({ v: 1 })),
        s.kv.update('o', () => ({ e: [] })),
        s.kv.get('id'),
      ]);
      await done;
      expect(counted.modes).toEqual(['readwrite']);
    } finally {
      counted.restore();
    }
  });

  test('an update that leaves a primitive as it was writes nothing', async () => {
    const { kv, grant } = createKv(window);
    await grant();
    await kv.set('id', 'abc');
    const counted = countTransactions();
    try {
      await kv.set('id', 'abc');
      expect(counted.writes.n).toBe(0);
    } finally {
      counted.restore();
    }
  });
});

describe('consent', () => {
  test('pending: memory only, nothing in IndexedDB or localStorage; granting replays in order', async () => {
    const s = createKv(window);
    s.stop(true);
    await s.kv.set('a', 1);
    await s.kv.update<number>('a', (n = 0) => n * 10);
    await s.kv.update<string[]>('l', (l = []) => [...l, 'x']);
    expect(await s.kv.get('a')).toBe(10);
    expect(await idbDump()).toBeNull();
    expect(localStorage.length).toBe(0);

    // Something an earlier visit stored: the replay applies on top of it.
    const other = createKv(window);
    await other.grant();
    await other.kv.set('l', ['old']);

    await s.grant();
    expect(await s.kv.get('a')).toBe(10);
    expect(await s.kv.get('l')).toEqual(['old', 'x']);
  });

  test('denied: memory only and nothing held for later', async () => {
    const s = createKv(window);
    s.stop(false);
    await s.kv.set('a', 1);
    expect(await s.kv.get('a')).toBe(1);
    await s.grant();
    expect(await s.kv.get('a')).toBeUndefined();
  });

  test('wipe removes the IndexedDB values, our localStorage keys only, and memory', async () => {
    localStorage.setItem('cairn', '{}');
    localStorage.setItem('cairn.cfg', '{}');
    localStorage.setItem('cairn:h', '{}');
    localStorage.setItem('cairnish', 'site data');
    localStorage.setItem('other', 'site data');
    const s = createKv(window);
    await s.grant();
    await s.kv.set('h', { v: 1 });
    await s.wipe();
    expect(await idbDump()).toEqual({});
    expect(Object.keys(localStorage).sort()).toEqual(['cairnish', 'other']);
    expect(await s.kv.get('h')).toBeUndefined();
  });

  test('wipe without an open connection empties the database through one, and creates none', async () => {
    // A page where consent is denied from the start never opens IndexedDB: no database, none made.
    const none = createKv(window);
    none.stop(false);
    await none.wipe();
    expect(await idbDump()).toBeNull();
    await rawPut('h', { v: 1 });
    expect(await idbDump()).toEqual({ h: { v: 1 } });
    // A delete would wait for other tabs' connections, and this tab's next open behind it: cleared instead.
    const s = createKv(window);
    s.stop(false);
    await s.wipe();
    expect(await idbDump()).toEqual({});
  });

  test('without indexedDB.databases(), a wipe without a connection deletes the database', async () => {
    await rawPut('h', { v: 1 });
    const databases = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(indexedDB), 'databases');
    Object.defineProperty(indexedDB, 'databases', { configurable: true, value: undefined });
    try {
      const s = createKv(window);
      s.stop(false);
      await s.wipe();
      await settle();
    } finally {
      delete (indexedDB as { databases?: unknown }).databases;
    }
    expect(databases).toBeDefined();
    expect(await idbDump()).toBeNull();
  });
});

describe('device id cookie', () => {
  test('13 months, SameSite=Lax, on the given domain; blocked cookies report false', () => {
    const writes: string[] = [];
    let proto: object | null = document;
    while (proto && !Object.getOwnPropertyDescriptor(proto, 'cookie')) proto = Object.getPrototypeOf(proto);
    const desc = Object.getOwnPropertyDescriptor(proto!, 'cookie')!;
    Object.defineProperty(document, 'cookie', {
      configurable: true,
      get: () => desc.get!.call(document),
      set: (v: string) => (writes.push(v), desc.set!.call(document, v)),
    });
    try {
      const c = idCookie(false);
      expect(c.set('abc-12345')).toBe(true);
      expect(c.get()).toBe('abc-12345');
      const attrs = (w: string) =>
        w
          .split('; ')
          .map((a) => a.split('=')[0]!.toLowerCase())
          .sort();
      expect(writes[0]).toMatch(/^cairn_id=abc-12345; /);
      expect(writes[0]).toMatch(/; sameSite=Lax(;|$)/);
      expect(attrs(writes[0]!)).toEqual(['cairn_id', 'expires', 'path', 'samesite']);
      const expires = Date.parse(/expires=([^;]+)/.exec(writes[0]!)![1]!);
      expect(Math.round((expires - Date.now()) / 864e5)).toBe(396);
      idCookie(true, '.shop.test').set('x-1234567');
      expect(attrs(writes[1]!)).toEqual(['cairn_id', 'domain', 'expires', 'path', 'samesite', 'secure']);
      expect(writes[1]).toMatch(/; domain=\.shop\.test(;|$)/);
      c.remove();
      expect(c.get()).toBeUndefined();
    } finally {
      delete (document as { cookie?: string }).cookie;
    }
    Object.defineProperty(document, 'cookie', { configurable: true, get: () => '', set: () => {} });
    try {
      expect(idCookie(false).set('abcdefgh')).toBe(false);
    } finally {
      delete (document as { cookie?: string }).cookie;
    }
  });
});
