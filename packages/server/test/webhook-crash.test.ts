import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeliveryLogRow, Store } from '../src/store/types.js';
import { startCli, type Running } from './helpers/cli.js';
import { postgresDb, sqliteDb, type TestDb } from './helpers/db.js';
import { startReceiver } from './helpers/webhook-receiver.js';

// kill -9 of a real server process while the receiver holds its webhook POST, then a restart on the
// same database: the receiver processes the episode's key once, and the row ends 'delivered'.
// Bounded by steps; no timing is asserted.

const SECRET = 'crash-webhook-secret-0123456789abcdefgh';

function envFor(db: TestDb): { args: string[]; env: Record<string, string> } {
  const o = db.options;
  const env = { CAIRN_SITE_SHOP_WEBHOOK_SECRET: SECRET };
  if (o.databaseUrl)
    return { args: [], env: { ...env, DATABASE_URL: o.databaseUrl, CAIRN_PG_SCHEMA: o.pgSchema as string } };
  return { args: ['--db', o.sqlitePath as string], env: { ...env, DATABASE_URL: '' } };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, steps = 300): Promise<T> {
  for (let i = 0; i < steps; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe.each([sqliteDb(), postgresDb()])('kill -9 mid-delivery on $name', (db) => {
  const running: Running[] = [];
  afterAll(async () => {
    for (const r of running) r.proc.kill('SIGKILL');
    await db.cleanup();
  });

  it('delivers the episode once: the same key again after the restart, then never more', async () => {
    // The first POST is held (the server is killed while waiting); every later one is answered.
    const receiver = await startReceiver((_r, nth) => (nth === 1 ? 'hold' : { status: 200 }));
    const store: Store = await db.open();
    const { args, env } = envFor(db);
    const flags = [
      ...args,
      '--rate-ip',
      '0',
      '--rate-device',
      '0',
      '--trigger-poll-ms',
      '100',
      '--webhook-timeout-ms',
      '1500',
    ];
    const first = await startCli(flags, env);
    running.push(first);

    const id = randomUUID();
    const now = Date.now();
    await store.addDelivery({
      site: 'shop',
      id,
      triggerId: 'cart',
      person: 'u:alice',
      url: receiver.url,
      payload: JSON.stringify({ idempotencyKey: id, site: 'shop', trigger: { id: 'cart', on: 'cart_abandoned' } }),
      startedAt: now,
      lastAt: now,
      nextAttemptAt: now,
      now,
    });
    await receiver.waitFor(1);
    // The server holds the claim and waits for the answer: kill it now.
    const log = async (): Promise<DeliveryLogRow | undefined> =>
      (await store.listDeliveries('shop', { limit: 10 })).find((r) => r.id === id);
    expect(await log()).toMatchObject({ status: 'pending', attempts: 1 });
    first.proc.kill('SIGKILL');
    expect(await first.exited).toBeNull();

    const second = await startCli(flags, env);
    running.push(second);
    const done = await until('delivered', async () => {
      const r = await log();
      return r?.status === 'delivered' ? r : undefined;
    });
    expect(done).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 });
    // A few more polls: nothing more is sent.
    await new Promise((ok) => setTimeout(ok, 1000));
    second.proc.kill('SIGTERM');
    await second.exited;
    expect(receiver.received.map((r) => r.key)).toEqual([id, id]);
    expect(receiver.processed).toEqual(new Set([id]));
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    await receiver.close();
  });
});
