import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../context.js';
import { compress, negotiateEncoding, zlibEncoder, type Encoder } from './index.js';

const BIG = JSON.stringify({
  items: Array.from({ length: 200 }, (_, i) => ({ id: `item-${i}`, title: 'Linen shirt' })),
});
const SCRIPT = `/* the SDK */ ${'function cairn(){return 1}\n'.repeat(100)}`;

function app(encode?: Encoder) {
  let encodes = 0;
  const counting: Encoder = (bytes, coding, effort) => {
    encodes++;
    return (encode ?? zlibEncoder)(bytes, coding, effort);
  };
  const a = new Hono<Env>();
  a.use('*', compress({ encode: counting }));
  a.get('/big', (c) => c.json(JSON.parse(BIG) as unknown));
  a.get('/small', (c) => c.json({ ok: true }));
  a.get('/script', (c) =>
    c.body(SCRIPT, 200, {
      'Content-Type': 'application/javascript; charset=utf-8',
      ETag: '"v1"',
      'Cache-Control': 'public, max-age=60',
    }),
  );
  a.get('/private', (c) =>
    c.body(BIG, 200, { 'Content-Type': 'application/json', ETag: '"p1"', 'Cache-Control': 'private, no-cache' }),
  );
  a.get('/text', (c) => c.text(BIG));
  a.get('/not-modified', (c) => c.body(null, 304, { ETag: '"v1"' }));
  a.get('/error', (c) => c.json({ error: 'bad', padding: BIG }, 400));
  return { a, encodes: () => encodes };
}

const decode = async (res: Response): Promise<string> => {
  const bytes = Buffer.from(await res.arrayBuffer());
  const coding = res.headers.get('content-encoding');
  if (coding === 'br') return brotliDecompressSync(bytes).toString('utf8');
  if (coding === 'gzip') return gunzipSync(bytes).toString('utf8');
  return bytes.toString('utf8');
};

describe('negotiateEncoding', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['identity', null],
    ['gzip, deflate, br', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br, gzip;q=1.0', 'br'],
    ['gzip;q=0.8, br;q=0.8', 'br'],
    ['br;q=0, gzip;q=0', null],
    ['br;q=0', null],
    ['*', 'br'],
    ['*;q=0.5, gzip', 'gzip'],
    ['*;q=0', null],
    ['gzip;q=0, *', 'br'],
    ['deflate', null],
    ['BR', 'br'],
    [' gzip ; q=0.3 , br ; q=0.2', 'gzip'],
    ['br;q=2', null],
    ['br;q=abc, gzip', 'gzip'],
  ])('%j → %j', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });
});

describe('compress middleware', () => {
  it('sends brotli or gzip as accepted, which decode to the plain body, with Vary and Content-Length', async () => {
    const { a } = app();
    const plain = await a.request('/big');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('vary')).toBe('Accept-Encoding');
    const text = await plain.text();
    expect(text).toBe(BIG);
    for (const [accept, coding] of [
      ['gzip, deflate, br', 'br'],
      ['gzip', 'gzip'],
    ] as const) {
      const res = await a.request('/big', { headers: { 'accept-encoding': accept } });
      expect(res.headers.get('content-encoding')).toBe(coding);
      expect(res.headers.get('vary')).toBe('Accept-Encoding');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const bytes = await res.clone().arrayBuffer();
      expect(Number(res.headers.get('content-length'))).toBe(bytes.byteLength);
      expect(bytes.byteLength).toBeLessThan(BIG.length / 4);
      expect(await decode(res)).toBe(text);
    }
  });

  it('leaves small bodies, other types, 304s and errors as they are', async () => {
    const { a, encodes } = app();
    const headers = { 'accept-encoding': 'br' };
    const small = await a.request('/small', { headers });
    expect(small.headers.get('content-encoding')).toBeNull();
    expect(await small.json()).toEqual({ ok: true });
    const text = await a.request('/text', { headers });
    expect(text.headers.get('content-encoding')).toBeNull();
    expect(text.headers.get('vary')).toBeNull();
    const notModified = await a.request('/not-modified', { headers });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('content-encoding')).toBeNull();
    expect(notModified.headers.get('vary')).toBeNull();
    const error = await a.request('/error', { headers });
    expect(error.status).toBe(400);
    expect(error.headers.get('content-encoding')).toBeNull();
    expect(encodes()).toBe(0);
  });

  it('compresses a public answer with an ETag once per coding, then serves the kept bytes', async () => {
    const { a, encodes } = app();
    const bodies = new Set<string>();
    for (let i = 0; i < 3; i++) {
      for (const accept of ['br', 'gzip']) {
        const res = await a.request('/script', { headers: { 'accept-encoding': accept } });
        expect(res.headers.get('etag')).toBe('"v1"');
        bodies.add(await decode(res));
      }
    }
    expect([...bodies]).toEqual([SCRIPT]);
    expect(encodes()).toBe(2);
  });

  it('compresses a private answer on every request: it is kept nowhere', async () => {
    const { a, encodes } = app();
    for (let i = 0; i < 3; i++)
      expect(await decode(await a.request('/private', { headers: { 'accept-encoding': 'br' } }))).toBe(BIG);
    expect(encodes()).toBe(3);
  });

  it('picks the strongest setting for kept answers and a quick one for the rest', async () => {
    const efforts: string[] = [];
    const { a } = app((bytes, coding, effort) => {
      efforts.push(`${coding}:${effort}`);
      return zlibEncoder(bytes, coding, effort);
    });
    await a.request('/script', { headers: { 'accept-encoding': 'br' } });
    await a.request('/private', { headers: { 'accept-encoding': 'gzip' } });
    expect(efforts).toEqual(['br:max', 'gzip:fast']);
  });
});
