import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStores, type TestDb } from './helpers/db.js';
import { admin, bearer, config, harness, id, ORIGIN, pageEvent, SITE, type Harness } from './helpers/http.js';

describe.each(makeStores())('GET /v1/profile with validators on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
    expect((await h.req('PUT', '/v1/config', { body: config(), headers: admin })).status).toBe(200);
  });
  afterAll(() => db.cleanup());

  /** A device with one page view, and its token. */
  async function device(): Promise<{ dev: string; token: string; url: string }> {
    const dev = id();
    const token = `token-${id()}`;
    expect(
      (
        await h.req('POST', '/v1/collect', {
          body: { site: SITE, deviceId: dev, events: [pageEvent()] },
          headers: bearer(token),
        })
      ).status,
    ).toBe(202);
    return { dev, token, url: `/v1/profile?site=${SITE}&deviceId=${dev}` };
  }

  it('answers with a strong ETag and private, no-cache', async () => {
    const { token, url } = await device();
    const res = await h.req('GET', url, { headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
    // The same profile, the same tag.
    expect((await h.req('GET', url, { headers: bearer(token) })).headers.get('etag')).toBe(res.headers.get('etag'));
  });

  it('If-None-Match with the current ETag answers 304 with no body', async () => {
    const { token, url } = await device();
    const etag = (await h.req('GET', url, { headers: bearer(token) })).headers.get('etag')!;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const res = await h.req('GET', url, { headers: { ...bearer(token), 'if-none-match': ifNoneMatch } });
      expect(res.status, ifNoneMatch).toBe(304);
      expect(await res.text()).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-control')).toBe('private, no-cache');
    }
    expect((await h.req('GET', url, { headers: { ...bearer(token), 'if-none-match': '"stale"' } })).status).toBe(200);
  });

  it('the token check comes first: a stranger holding the ETag gets 401, not 304', async () => {
    const { token, url } = await device();
    const etag = (await h.req('GET', url, { headers: bearer(token) })).headers.get('etag')!;
    for (const headers of [{}, bearer(`stranger-${id()}`)]) {
      const res = await h.req('GET', url, { headers: { ...headers, 'if-none-match': etag } });
      expect(res.status).toBe(401);
      expect(res.headers.get('etag')).toBeNull();
    }
    const unknown = await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${id()}`, {
      headers: { ...bearer(token), 'if-none-match': '*' },
    });
    expect(unknown.status).toBe(401);
  });

  it('a new event changes the ETag, and the old one then gets the new profile', async () => {
    const { dev, token, url } = await device();
    const before = (await h.req('GET', url, { headers: bearer(token) })).headers.get('etag')!;
    expect(
      (
        await h.req('POST', '/v1/collect', {
          body: { site: SITE, deviceId: dev, events: [pageEvent({ product: 'SKU-NEW' })] },
          headers: bearer(token),
        })
      ).status,
    ).toBe(202);
    const res = await h.req('GET', url, { headers: { ...bearer(token), 'if-none-match': before } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(before);
    expect(((await res.json()) as { products: { id: string }[] }).products.map((p) => p.id)).toContain('SKU-NEW');
  });

  it('a browser on an allowed origin may read the ETag', async () => {
    const { token, url } = await device();
    const res = await h.req('GET', url, { headers: { ...bearer(token), origin: ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-expose-headers')?.split(/,\s*/)).toContain('ETag');
  });
});
