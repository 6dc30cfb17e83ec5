import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, StartupError } from '../src/server.js';
import { sqliteDb } from './helpers/db.js';
import { config } from './helpers/http.js';

describe('startServer', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('listens on loopback by default and closes cleanly', async () => {
    const s = await startServer({ port: 0, db: db.options.sqlitePath as string, logger: false, config: config() });
    try {
      expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    } finally {
      await s.close();
    }
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it('drops a client that never finishes its headers (slowloris)', async () => {
    const s = await startServer({
      port: 0,
      db: db.options.sqlitePath as string,
      logger: false,
      headersTimeoutMs: 500,
      requestTimeoutMs: 1000,
    });
    try {
      const sock = connect(s.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d.toString()));
      sock.write('POST /v1/collect HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      await new Promise<void>((ok) => sock.once('close', () => ok()));
      expect(got === '' || /^HTTP\/1\.1 408/.test(got)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('rejects an invalid config with a StartupError naming the field, before opening anything', async () => {
    const bad = config({ origins: ['javascript:alert(1)'] });
    await expect(
      startServer({ port: 0, db: db.options.sqlitePath as string, logger: false, config: bad }),
    ).rejects.toThrow(StartupError);
    await expect(
      startServer({ port: 0, db: db.options.sqlitePath as string, logger: false, config: bad }),
    ).rejects.toThrow(/origins\.0/);
  });

  it("keeps a seeded config's ETag across restarts when it did not change", async () => {
    const etags: (string | null)[] = [];
    for (let i = 0; i < 2; i++) {
      const s = await startServer({ port: 0, db: db.options.sqlitePath as string, logger: false, config: config() });
      etags.push((await fetch(`${s.url}/v1/config?site=shop`)).headers.get('etag'));
      await s.close();
    }
    expect(etags[0]).toBeTruthy();
    expect(etags[1]).toBe(etags[0]);
  });
});
