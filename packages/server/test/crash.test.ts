import { afterAll, describe, expect, it } from 'vitest';
import type { CollectResponse } from '@cairn/schema';
import { startCli, type Running } from './helpers/cli.js';
import { postgresDb, sqliteDb, type TestDb } from './helpers/db.js';
import { clientToken, id, pageEvent, SITE } from './helpers/http.js';

// kill -9 in the middle of a stream of batches, restart on the same database: every batch that was
// acknowledged with 202 is there. Bounded by batch count and by time; no timing is asserted.

const BATCH = 20;
const MAX_BATCHES = 400;
const KILL_AFTER_ACKS = 25;
const WORKERS = 4;
const DEADLINE_MS = 30_000;

function envFor(db: TestDb): { args: string[]; env: Record<string, string> } {
  const o = db.options;
  if (o.databaseUrl) return { args: [], env: { DATABASE_URL: o.databaseUrl, CAIRN_PG_SCHEMA: o.pgSchema as string } };
  return { args: ['--db', o.sqlitePath as string], env: { DATABASE_URL: '' } };
}

describe.each([sqliteDb(), postgresDb()])('kill -9 mid-stream on $name', (db) => {
  const running: Running[] = [];
  afterAll(async () => {
    for (const r of running) r.proc.kill('SIGKILL');
    await db.cleanup();
  });

  it('loses no acknowledged batch', async () => {
    const { args, env } = envFor(db);
    const flags = [...args, '--rate-ip', '0', '--rate-device', '0'];
    const first = await startCli(flags, env);
    running.push(first);

    const deviceId = id();
    const post = (url: string, events: unknown[], token?: string) =>
      fetch(`${url}/v1/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ site: SITE, deviceId, events }),
      });
    // The device's own token, as the SDK makes one: adopted at its first collect.
    const token = clientToken();
    expect((await post(first.url, [pageEvent()], token)).status).toBe(202);

    const acked: unknown[][] = [];
    let sent = 0;
    let killed = false;
    const started = Date.now();
    const worker = async () => {
      while (sent < MAX_BATCHES && Date.now() - started < DEADLINE_MS) {
        sent++;
        const events = Array.from({ length: BATCH }, () => pageEvent());
        try {
          const res = await post(first.url, events, token);
          if (res.status === 202) {
            const body = (await res.json()) as CollectResponse;
            expect(body.accepted).toBe(BATCH);
            acked.push(events);
          }
        } catch {
          if (killed) return; // the server is gone: this batch was never acknowledged
        }
        if (!killed && acked.length >= KILL_AFTER_ACKS) {
          killed = true;
          first.proc.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    expect(killed).toBe(true);
    expect(await first.exited).toBeNull(); // killed by a signal, not exited
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(sent).toBeGreaterThan(acked.length); // the stream went on past the kill

    const second = await startCli(flags, env);
    running.push(second);
    // Every acknowledged batch is stored: sent again, all of it is a duplicate.
    for (const events of acked) {
      const res = await post(second.url, events, token);
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 0, duplicates: BATCH });
    }
    second.proc.kill('SIGTERM');
    await second.exited;
    const rows = ((await db.tables()).events as { device_id: string; id: string }[]).filter(
      (r) => r.device_id === deviceId,
    );
    const ids = new Set(rows.map((r) => r.id));
    for (const events of acked) for (const e of events as { id: string }[]) expect(ids.has(e.id)).toBe(true);
  });
});
