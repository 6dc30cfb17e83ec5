// Reads everything a page can store: cookies (including HttpOnly ones, from the context), localStorage,
// sessionStorage and every IndexedDB database, store and entry.
import type { BrowserContext, Page } from '@playwright/test';

export interface StorageDump {
  cookies: { name: string; value: string }[];
  localStorage: Record<string, string>;
  sessionStorage: Record<string, string>;
  indexedDB: { db: string; store: string; key: string; value: string }[];
}

export async function readStorage(page: Page, context: BrowserContext = page.context()): Promise<StorageDump> {
  const inPage = await page.evaluate(async () => {
    const dump = (s: Storage) => {
      const out: Record<string, string> = {};
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i);
        if (k !== null) out[k] = s.getItem(k) ?? '';
      }
      return out;
    };
    const req = <T>(r: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const entries: { db: string; store: string; key: string; value: string }[] = [];
    const idb = typeof indexedDB === 'undefined' ? null : indexedDB;
    for (const { name } of idb ? await idb.databases() : []) {
      if (!name || !idb) continue;
      const db = await req(idb.open(name));
      for (const store of Array.from(db.objectStoreNames)) {
        const os = db.transaction(store, 'readonly').objectStore(store);
        const [keys, values] = await Promise.all([req(os.getAllKeys()), req(os.getAll())]);
        keys.forEach((k, i) =>
          entries.push({
            db: name,
            store,
            key: JSON.stringify(k),
            value: JSON.stringify(values[i]) ?? String(values[i]),
          }),
        );
      }
      db.close();
    }
    return { localStorage: dump(localStorage), sessionStorage: dump(sessionStorage), indexedDB: entries };
  });
  const cookies = (await context.cookies()).map(({ name, value }) => ({ name, value }));
  return { cookies, ...inPage };
}

/** All of it as one string, to search for a name, an id or a SKU. */
export const flatten = (d: StorageDump): string => JSON.stringify(d);

/** The cookies left once the demo shop's own consent-manager cookie is set aside. */
export const withoutShopConsent = (d: StorageDump): StorageDump => ({
  ...d,
  cookies: d.cookies.filter((c) => c.name !== 'demo_consent'),
});
