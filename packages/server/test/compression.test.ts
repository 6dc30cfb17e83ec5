import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';
import { makeStores, sqliteDb, type TestDb } from './helpers/db.js';
import { admin, bearer, config, harness, id, pageEvent, SITE, type Harness } from './helpers/http.js';

const CODE = Array.from(
  { length: 150 },
  (_, i) => `function f${i}(a,b){return a.getAttribute("data-cairn-${i}")||b}`,
).join(';');
const CHUNK_CODE = `export default function(){${CODE}}`;
/** Named by its bytes' hash, as the SDK's build names it: a chunk that does not match is not served. */
const CHUNK = `cairn-body.${createHash('sha256').update(CHUNK_CODE).digest('hex').slice(0, 24)}.js`;

/** An SDK of realistic size: a head carrying the placeholder and naming its chunk, and the chunk. */
function sdkDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-sdk-'));
  const code = CODE;
  writeFileSync(
    join(dir, 'cairn.js'),
    `!function(){var c="__CAIRN_EMBEDDED_CONFIG__";${code};import("./${CHUNK}")}();`,
  );
  writeFileSync(join(dir, CHUNK), CHUNK_CODE);
  return dir;
}

function decode(bytes: Buffer, coding: string | null): string {
  if (coding === 'br') return brotliDecompressSync(bytes).toString('utf8');
  if (coding === 'gzip') return gunzipSync(bytes).toString('utf8');
  return bytes.toString('utf8');
}

describe.each(makeStores())('compressed answers on $name', (db: TestDb) => {
  let h: Harness;
  let dir: string;
  let dev: string;
  let token: string;
  beforeAll(async () => {
    dir = sdkDir();
    h = await harness(db, { sdkPath: join(dir, 'cairn.js') });
    // Variants enough to pass the 1 KB under which nothing is compressed.
    const variants = Array.from({ length: 10 }, (_, i) => ({
      id: `v${i}`,
      name: `Variant ${i}`,
      when: { source: `source-${i}` },
      slots: { 'hero-title': { text: `Styled for visitors from source ${i}` } },
    }));
    expect((await h.req('PUT', '/v1/config', { body: config({ variants }), headers: admin })).status).toBe(200);
    dev = id();
    token = `token-${id()}`;
    const events = Array.from({ length: 30 }, (_, i) => pageEvent({ product: `SKU-${i}`, path: `/product/${i}` }));
    expect(
      (await h.req('POST', '/v1/collect', { body: { site: SITE, deviceId: dev, events }, headers: bearer(token) }))
        .status,
    ).toBe(202);
  });
  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const paths = () =>
    [
      ['/v1/sdk.js?site=shop', {}],
      [`/v1/${CHUNK}`, {}],
      ['/v1/config?site=shop', {}],
      [`/v1/profile?site=${SITE}&deviceId=${dev}`, bearer(token)],
    ] as const;

  it('decode to the plain answer, with brotli preferred and gzip when only it is accepted', async () => {
    for (const [path, headers] of paths()) {
      const plain = await h.req('GET', path, { headers });
      expect(plain.status, path).toBe(200);
      expect(plain.headers.get('content-encoding'), path).toBeNull();
      const text = await plain.text();
      expect(text.length, path).toBeGreaterThan(1024);
      for (const [accept, coding] of [
        ['gzip, deflate, br', 'br'],
        ['gzip', 'gzip'],
        ['br;q=0.1, gzip;q=0.9', 'gzip'],
        ['identity', null],
      ] as const) {
        const res = await h.req('GET', path, { headers: { ...headers, 'accept-encoding': accept } });
        expect(res.headers.get('content-encoding'), `${path} ${accept}`).toBe(coding);
        expect(res.headers.get('vary'), path).toMatch(/Accept-Encoding/);
        expect(res.headers.get('etag'), path).toBe(plain.headers.get('etag'));
        expect(decode(Buffer.from(await res.arrayBuffer()), coding), `${path} ${accept}`).toBe(text);
      }
    }
  });

  it('a 304 is sent as it was, whatever the Accept-Encoding', async () => {
    for (const [path, headers] of paths()) {
      const etag = (await h.req('GET', path, { headers })).headers.get('etag')!;
      const res = await h.req('GET', path, { headers: { ...headers, 'accept-encoding': 'br', 'if-none-match': etag } });
      expect(res.status, path).toBe(304);
      expect(res.headers.get('content-encoding'), path).toBeNull();
      expect((await res.arrayBuffer()).byteLength, path).toBe(0);
    }
  });
});

describe('sdk.js over HTTP', () => {
  const db = sqliteDb();
  let dir: string;
  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The bytes on the wire: node:http does not decode, unlike fetch. */
  const raw = (url: string, acceptEncoding?: string) =>
    new Promise<{ bytes: Buffer; coding: string | null; length: string | undefined }>((ok, fail) => {
      const req = httpRequest(url, { headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          ok({
            bytes: Buffer.concat(chunks),
            coding: (res.headers['content-encoding'] as string | undefined) ?? null,
            length: res.headers['content-length'],
          }),
        );
        res.on('error', fail);
      });
      req.on('error', fail);
      req.end();
    });

  it('is smaller on the wire compressed, and decodes to the same script', async () => {
    dir = sdkDir();
    const server = await startServer({
      port: 0,
      db: (db.options as { sqlitePath: string }).sqlitePath,
      config: config(),
      logger: false,
      sdkPath: join(dir, 'cairn.js'),
    });
    try {
      const url = `${server.url}/v1/sdk.js?site=${SITE}`;
      const plain = await raw(url);
      const br = await raw(url, 'gzip, deflate, br');
      const gz = await raw(url, 'gzip');
      expect(plain.coding).toBeNull();
      expect(br.coding).toBe('br');
      expect(gz.coding).toBe('gzip');
      expect(br.length).toBe(String(br.bytes.byteLength));
      expect(br.bytes.byteLength).toBeLessThan(plain.bytes.byteLength / 3);
      expect(gz.bytes.byteLength).toBeLessThan(plain.bytes.byteLength / 3);
      expect(decode(br.bytes, 'br')).toBe(plain.bytes.toString('utf8'));
      expect(decode(gz.bytes, 'gzip')).toBe(plain.bytes.toString('utf8'));
    } finally {
      await server.close();
    }
  });
});
