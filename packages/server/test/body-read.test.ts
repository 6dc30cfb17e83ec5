// A collect's body is read straight from the Node request stream: the body limit decides on the
// Content-Length header without opening the body as a web ReadableStream (the Node adapter's
// Readable.toWeb, whose cost showed in profiles of collect). A body without a length is still
// counted as it streams in. Through a real server on a socket; steps are counted, nothing is timed.
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { LIMITS } from '@cairn/schema';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { sqliteDb } from './helpers/db.js';
import { bearer, clientToken, config, id, pageEvent, SITE } from './helpers/http.js';

describe('reading a collect body', () => {
  const db = sqliteDb();
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      port: 0,
      db: db.options.sqlitePath as string,
      config: config(),
      logger: false,
      rateLimit: { ip: false, device: false },
      triggers: false,
    });
  });
  afterAll(async () => {
    await server.close();
    await db.cleanup();
  });

  /** POSTs `body` to /v1/collect, with a Content-Length or chunked; resolves to the status. */
  const post = (body: string, chunked: boolean): Promise<number> =>
    new Promise((resolve, reject) => {
      const url = new URL('/v1/collect', server.url);
      const req = request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...bearer(token),
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) }),
        },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      if (chunked) {
        // Two chunks: the length is known only once both arrived.
        req.write(body.slice(0, 100));
        req.end(body.slice(100));
      } else req.end(body);
    });
  const token = clientToken();
  const deviceId = id();
  const batch = (pad = '') => JSON.stringify({ site: SITE, deviceId, events: [pageEvent()], pad });

  it('with a Content-Length, never opens the body as a web stream', async () => {
    const toWeb = vi.spyOn(Readable, 'toWeb');
    try {
      expect(await post(batch(), false)).toBe(202);
      expect(toWeb).not.toHaveBeenCalled();
      expect(await post(batch('x'.repeat(LIMITS.batchBytes)), false)).toBe(413);
      expect(toWeb).not.toHaveBeenCalled();
    } finally {
      toWeb.mockRestore();
    }
  });

  it('chunked, counts the body as it streams in', async () => {
    expect(await post(batch(), true)).toBe(202);
    expect(await post(batch('x'.repeat(LIMITS.batchBytes)), true)).toBe(413);
  });
});
