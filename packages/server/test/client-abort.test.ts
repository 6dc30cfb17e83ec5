// A client that closes its connection halfway through a body is not an outage: it is logged at info
// as 499, never as "database unavailable" (error, 503, cairn_errors_total{kind="unavailable"}),
// which anyone could otherwise set off by aborting uploads. A real socket sends the partial body.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Log } from '../src/log.js';
import { createApp } from '../src/app.js';
import { createMetrics } from '../src/metrics.js';
import { readJson } from '../src/request.js';
import { startServer, type RunningServer } from '../src/server.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { ADMIN_KEY } from './helpers/http.js';

interface Line {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function recorder() {
  const lines: Line[] = [];
  let waiting: { route: string; done: () => void } | null = null;
  const push = (level: Line['level']) => (obj: object, msg?: string) => {
    const line = { level, obj: obj as Record<string, unknown>, msg };
    lines.push(line);
    if (msg === 'request' && waiting && line.obj.route === waiting.route) waiting.done();
  };
  const log: Log = { info: push('info'), warn: push('warn'), error: push('error') };
  /** Resolves once the request log line of `route` is written (the request is over). */
  const requestLogged = (route: string) => new Promise<void>((done) => (waiting = { route, done }));
  return { log, lines, requestLogged };
}

/** Sends the head and the first part of a body that announces more, then closes the connection. */
async function abortUpload(port: number, method: string, path: string, headers: Record<string, string>) {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((ok) => socket.once('connect', () => ok()));
  const head = Object.entries({
    host: 'localhost',
    'content-type': 'application/json',
    'content-length': '5000',
    ...headers,
  })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n\r\n{"site":"shop","deviceId":"`);
  // Closed once the server has the head and a part of the body, as a tab closed mid-upload.
  await new Promise<void>((ok) => socket.write('0123456789', () => ok()));
  socket.destroy();
}

describe.each(makeStores())('a client that aborts its upload on $name', (db: TestDb) => {
  let server: RunningServer;
  const rec = recorder();
  beforeAll(async () => {
    server = await startServer({
      port: 0,
      ...(db.name === 'sqlite' ? { db: db.options.sqlitePath as string } : (db.options as object)),
      adminKey: ADMIN_KEY,
      logger: rec.log,
    });
  });
  afterAll(async () => {
    await server?.close();
    await db.cleanup();
  });

  const uploads: [string, string, string, Record<string, string>][] = [
    ['POST /v1/collect', 'POST', '/v1/collect', {}],
    ['PUT /v1/config', 'PUT', '/v1/config', { authorization: `Bearer ${ADMIN_KEY}` }],
    ['POST /console/api/validate', 'POST', '/console/api/validate', { authorization: `Bearer ${ADMIN_KEY}` }],
  ];

  it.each(uploads)(
    '%s: logged at info as 499, not as the database unavailable',
    async (_name, method, path, headers) => {
      const before = rec.lines.length;
      const logged = rec.requestLogged(path);
      await abortUpload(server.port, method, path, headers);
      await logged;
      const lines = rec.lines.slice(before);
      expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
      expect(lines.map((l) => l.msg)).not.toContain('database unavailable');
      expect(lines.find((l) => l.msg === 'request')?.obj).toMatchObject({ method, route: path, status: 499 });

      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).not.toMatch(/cairn_errors_total\{kind="unavailable"\}/);
      expect(metrics).toContain(`cairn_http_requests_total{route="${path}",method="${method}",status="499"} 1`);
    },
  );
});

describe('a body stream reset, seen without the socket', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('reading the JSON body turns the reset into a 499 at info, whatever the adapter tells of the socket', async () => {
    const rec = recorder();
    const metrics = createMetrics();
    const app = createApp({
      store: await db.open(),
      logger: rec.log,
      metrics,
      rateLimit: { ip: false, device: false },
    });
    // A route that reads its body with readJson and nothing before it (a body limit reads the stream itself).
    app.post('/read-json', async (c) => c.json(await readJson(c)));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"site":"shop",'));
        controller.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      },
    });
    const res = await app.request('/read-json', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(499);
    expect(rec.lines.filter((l) => l.level !== 'info')).toEqual([]);
    expect(metrics.render()).not.toMatch(/cairn_errors_total\{kind="unavailable"\}/);
  });
});
