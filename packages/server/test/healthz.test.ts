import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import type { Store } from '../src/store/types.js';
import { makeStores, type TestDb } from './helpers/db.js';

describe.each(makeStores())('GET /healthz on $name', (db: TestDb) => {
  afterAll(() => db.cleanup());

  it('asks the store to ping its database: 200 when it answers, 503 when it does not', async () => {
    const store = await db.open();
    let pings = 0;
    let down = false;
    // The real store, with ping() observed and, once `down`, failing as an unreachable database does.
    const observed: Store = Object.assign(Object.create(store) as Store, {
      async ping() {
        pings++;
        if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return store.ping();
      },
    });
    const app = createApp({ store: observed, logger: false });
    const up = await app.request('/healthz');
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ ok: true, store: db.name });
    down = true;
    const failing = await app.request('/healthz');
    expect(failing.status).toBe(503);
    expect(await failing.json()).toEqual({ ok: false, store: db.name });
    expect(pings).toBe(2);
  });
});
