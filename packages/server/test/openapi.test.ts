import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDb } from './helpers/db.js';
import { harness } from './helpers/http.js';

describe('GET /v1/openapi.json', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('documents every route the app serves, and only those', async () => {
    const h = await harness(db);
    const res = await h.req('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const served = new Set(
      h.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^/]*\})?/g, '{$1}')}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)),
    );
    expect(served.size).toBeGreaterThanOrEqual(12);
    expect(documented).toEqual(served);
  });

  it('generates its schemas from zod, and every $ref resolves', async () => {
    const h = await harness(db);
    const doc = (await (await h.req('GET', '/v1/openapi.json')).json()) as {
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    const s = doc.components.schemas;
    expect(s.CollectBody?.required).toEqual(expect.arrayContaining(['site', 'deviceId', 'events']));
    expect(s.CollectBody?.properties?.events).toMatchObject({ type: 'array', maxItems: 100 });
    expect(Object.keys(s.SiteConfigInput?.properties ?? {})).toEqual(
      expect.arrayContaining(['site', 'origins', 'variants', 'prompts']),
    );
    const text = JSON.stringify(doc);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g))
      expect(s[name as string], name).toBeDefined();
  });
});
