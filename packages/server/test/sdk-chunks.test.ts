import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSdkChunks } from '../src/sdk/sdk-chunks.js';
import { sqliteDb } from './helpers/db.js';
import { harness, type Harness } from './helpers/http.js';

const BODY = 'window.__cairnBody = function () { return "deferred part"; };';
/** Named as the SDK's build names a chunk: the hex sha-256 of its bytes begins with the name's hash. */
const hashed = (prefix: string, code: string) =>
  `${prefix}.${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`;
const BODY_NAME = hashed('cairn-body', BODY);

describe('GET /v1/cairn-<name>.<hash>.js: the SDK chunks', () => {
  const db = sqliteDb();
  let dir: string;
  let h: Harness;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-chunks-'));
    writeFileSync(join(dir, 'cairn.js'), `!function(){var c="__CAIRN_EMBEDDED_CONFIG__";import("./${BODY_NAME}")}();`);
    writeFileSync(join(dir, BODY_NAME), BODY);
    writeFileSync(join(dir, 'cairn-secret.txt'), 'not a chunk');
    writeFileSync(join(dir, 'cairn-other.abcdef12.json'), '{}');
    h = await harness(db, { sdkPath: join(dir, 'cairn.js') });
  });
  afterAll(async () => {
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a chunk from beside cairn.js as immutable JavaScript that any origin may embed', async () => {
    // Where the head asks for it: its own URL's directory.
    const url = new URL(BODY_NAME, 'https://sync.example/v1/sdk.js?site=shop');
    expect(url.pathname).toBe(`/v1/${BODY_NAME}`);
    const res = await h.req('GET', url.pathname);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(BODY);
    expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    // A store may measure what it costs its pages: Resource Timing reads sizes only with this.
    expect(res.headers.get('timing-allow-origin')).toBe('*');
    expect(res.headers.get('etag')).toBe(`"${createHash('sha256').update(BODY).digest('base64url').slice(0, 22)}"`);
  });

  it('answers 304 with no body to If-None-Match', async () => {
    const etag = (await h.req('GET', `/v1/${BODY_NAME}`)).headers.get('etag')!;
    const res = await h.req('GET', `/v1/${BODY_NAME}`, { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe('');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers 404 JSON for a chunk name that is not there, which no cache may keep', async () => {
    const res = await h.req('GET', '/v1/cairn-body.fedcba9876543210.js');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
    // Another instance may archive it a moment later: a CDN keeping this 404 would hide it.
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('serves nothing but that exact name shape from that directory', async () => {
    const paths = [
      '/v1/cairn.js',
      '/v1/cairn-secret.txt',
      '/v1/cairn-other.abcdef12.json',
      '/v1/cairn-body.0123456.js', // hash too short
      `/v1/cairn-body.${'a'.repeat(65)}.js`, // too long
      '/v1/cairn-Body.0123456789abcdef.js', // upper case
      '/v1/cairn-body.0123456789ABCDEF.js',
      '/v1/cairn-..%2Fcairn.0123456789abcdef.js',
      `/v1/${BODY_NAME}%2F..%2F..%2Fpackage.json`,
      `/v1/..%2F${BODY_NAME}`,
      `/v1/%2e%2e/${BODY_NAME}`,
      `/v1/x/${BODY_NAME}`,
    ];
    for (const path of paths) {
      const res = await h.req('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(await res.text(), path).not.toContain('deferred part');
    }
  });

  it('keeps serving a chunk once read, after a rebuild deletes it: a page whose head was cached still loads it', async () => {
    const name = hashed('cairn-extra', 'extra();');
    writeFileSync(join(dir, name), 'extra();');
    expect((await h.req('GET', `/v1/${name}`)).status).toBe(200);
    rmSync(join(dir, name));
    const res = await h.req('GET', `/v1/${name}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('extra();');
  });

  it('the ETag of /v1/sdk.js changes when the head names another chunk', async () => {
    await h.req('PUT', '/v1/config', {
      body: { site: 'shop' },
      headers: { authorization: 'Bearer test-admin-key-0123456789abcdefghij' },
    });
    const before = (await h.req('GET', '/v1/sdk.js?site=shop')).headers.get('etag');
    // A rebuild: the head is the same but for the chunk's hashed name (same size, so only the content tells).
    writeFileSync(
      join(dir, 'cairn.js'),
      `!function(){var c="__CAIRN_EMBEDDED_CONFIG__";import("./cairn-body.0123456789abcdee.js")}();`,
    );
    const after = (await h.req('GET', '/v1/sdk.js?site=shop')).headers.get('etag');
    expect(after).not.toBe(before);
  });
});

describe('createSdkChunks().read', () => {
  it('reads only names of the chunk shape, and only from the directory of cairn.js', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cairn-chunks-'));
    const dist = join(root, 'dist');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dist);
    writeFileSync(join(dist, 'cairn.js'), 'head');
    writeFileSync(join(dist, BODY_NAME), BODY);
    // Would match a looser check, one directory up, and its bytes match its name: only the name's
    // check keeps it out.
    const up = hashed('cairn-up', 'outside');
    writeFileSync(join(root, up), 'outside');
    const chunks = createSdkChunks(() => join(dist, 'cairn.js'));
    try {
      expect(await chunks.read(BODY_NAME)).toMatchObject({ bytes: new TextEncoder().encode(BODY) });
      for (const name of [
        'cairn.js',
        `../${up}`,
        `${BODY_NAME}/../cairn.js`,
        `x/../${BODY_NAME}`,
        'cairn-body.0123456.js',
        `cairn-body.${'a'.repeat(65)}.js`,
        `${BODY_NAME}\u0000`,
      ]) {
        expect(await chunks.read(name), name).toBeNull();
      }
      expect(await createSdkChunks(() => null).read(BODY_NAME)).toBe('unbuilt');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
