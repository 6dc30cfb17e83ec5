// The console's routes: static files under a strict CSP, nothing outside its folder, and the live
// config check behind the admin key.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { CONSOLE_CSP, consoleOpenApiPaths, consoleRoutes, defaultConsoleDir } from '../src/routes/console.js';
import { sqliteDb, type TestDb } from './helpers/db.js';
import { admin, ADMIN_KEY, bearer } from './helpers/http.js';

describe('console routes', () => {
  let db: TestDb;
  let app: ReturnType<typeof createApp>;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-console-'));
  // A secret beside the folder: it must never be reachable.
  writeFileSync(join(dir, '..', `secret-${dir.split('-').pop()}.json`), '{"token":"TOP-SECRET-CONTENT"}');
  mkdirSync(join(dir, 'public', 'js'), { recursive: true });
  writeFileSync(
    join(dir, 'public', 'index.html'),
    '<!doctype html><title>t</title><script type="module" src="js/app.js"></script>',
  );
  writeFileSync(join(dir, 'public', 'js', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'public', '.env'), 'TOP-SECRET-CONTENT');
  writeFileSync(join(dir, 'public', 'notes.exe'), 'MZ');

  beforeAll(async () => {
    db = sqliteDb();
    const store = await db.open();
    app = createApp({ store, adminKey: ADMIN_KEY, logger: false, consoleDir: join(dir, 'public') });
  });
  afterAll(() => db.cleanup());

  it('redirects /console to /console/ and serves index.html there, under a strict CSP', async () => {
    const r = await app.request('/console');
    expect(r.status).toBe(308);
    expect(r.headers.get('location')).toBe('/console/');
    const page = await app.request('/console/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('src="js/app.js"');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(CONSOLE_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves scripts with their type, revalidated by ETag', async () => {
    const r = await app.request('/console/js/app.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await r.text()).toBe('console.log(1)');
    const etag = r.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request('/console/js/app.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const head = await app.request('/console/js/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await head.text()).toBe('');
  });

  it('serves nothing outside its folder, no dot-files and no unknown types', async () => {
    const name = `secret-${dir.split('-').pop()}.json`;
    for (const path of [
      `/console/../${name}`,
      `/console/%2e%2e/${name}`,
      `/console/js/%2e%2e/%2e%2e/${name}`,
      `/console/..%2f${name}`,
      '/console/.env',
      '/console/notes.exe',
      '/console/js',
      '/console/missing.js',
      '/console/js//app.js',
    ]) {
      const r = await app.request(path);
      expect(r.status, path).toBe(404);
      expect(await r.text(), path).not.toContain('TOP-SECRET-CONTENT');
    }
  });

  it('checks a config against the schema PUT /v1/config uses, with the admin key', async () => {
    const check = (body: string, headers: Record<string, string> = admin) =>
      app.request('/console/api/validate', { method: 'POST', body, headers });
    expect((await check('{}', {})).status).toBe(401);
    expect((await check('{}', bearer('not-the-key-0123456789'))).status).toBe(401);

    const ok = await check(
      JSON.stringify({ site: 'demo', variants: [{ id: 'v', name: 'V', slots: { hero: { text: 'Hi' } } }] }),
    );
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, issues: [] });

    const bad = await check(
      JSON.stringify({
        site: 'demo',
        variants: [{ id: 'v', name: 'V', slots: { hero: { href: 'javascript:alert(1)' } } }],
      }),
    );
    const body = (await bad.json()) as { ok: boolean; issues: { path: string; message: string }[] };
    expect(body.ok).toBe(false);
    expect(body.issues).toEqual([
      { path: 'variants.0.slots.hero.href', message: 'only http(s) or relative URLs are allowed' },
    ]);

    const broken = (await (await check('{"site": "demo",')).json()) as typeof body;
    expect(broken.ok).toBe(false);
    expect(broken.issues[0]?.path).toBe('(json)');

    const big = await check(JSON.stringify({ site: 'demo', pad: 'x'.repeat(1024 * 1024) }));
    expect(big.status).toBe(413);
  });

  it("refuses triggers without the site's webhook secret, as the save does", async () => {
    const config = JSON.stringify({
      site: 'demo',
      triggers: [
        { id: 'cart', on: 'cart_abandoned', after: '1h', channels: ['email'], url: 'https://hooks.example.com/c' },
      ],
    });
    const check = async (a: ReturnType<typeof createApp>) =>
      (await (await a.request('/console/api/validate', { method: 'POST', body: config, headers: admin })).json()) as {
        ok: boolean;
        issues: { path: string; message: string }[];
      };
    const noSecret = await check(app);
    expect(noSecret.ok).toBe(false);
    expect(noSecret.issues.map((i) => i.path)).toEqual(['triggers']);
    expect(noSecret.issues[0]?.message).toContain('no webhook secret');
    // The save says the same.
    const put = await app.request('/v1/config', { method: 'PUT', body: config, headers: admin });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { field?: string }).field).toBe('triggers');

    const store = await db.open();
    const withSecret = createApp({
      store,
      adminKey: ADMIN_KEY,
      webhookSecret: 'whsec-0123456789abcdef0123456789abcdef',
      logger: false,
      consoleDir: join(dir, 'public'),
    });
    expect(await check(withSecret)).toEqual({ ok: true, issues: [] });
  });

  it('is refused when the server has no admin key', async () => {
    const store = await db.open();
    const open = createApp({ store, logger: false });
    open.route('/', consoleRoutes({ dir: join(dir, 'public') }));
    expect((await open.request('/console/api/validate', { method: 'POST', body: '{}', headers: admin })).status).toBe(
      403,
    );
    // The static files hold no data: they are served anyway.
    expect((await open.request('/console/')).status).toBe(200);
  });
});

describe('the console package', () => {
  const root = defaultConsoleDir();
  const files = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)],
    );
  const own = files(root).filter((f) => !f.includes(`${join(root, 'vendor')}`));

  it('is found by default and served', async () => {
    const app = consoleRoutes({ adminKey: ADMIN_KEY });
    const page = await app.request('/console/');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('vendor/chart.umd.min.js');
    expect((await app.request('/console/js/app.js')).status).toBe(200);
  });

  it('has no inline script, inline style or event-handler attribute (the CSP would block them)', () => {
    for (const f of own.filter((x) => x.endsWith('.html'))) {
      const html = readFileSync(f, 'utf8');
      expect(
        [...html.matchAll(/<script\b[^>]*>/g)].every((m) => /\bsrc=/.test(m[0])),
        f,
      ).toBe(true);
      expect(html, f).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    }
  });

  it('never renders text as HTML', () => {
    const js = own.filter((x) => x.endsWith('.js'));
    expect(js.length).toBeGreaterThan(3);
    for (const f of js)
      expect(readFileSync(f, 'utf8'), f).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
      );
  });
});

describe('the console in the OpenAPI document', () => {
  it('documents exactly the routes consoleRoutes serves', () => {
    const served = consoleRoutes({ adminKey: ADMIN_KEY })
      .routes.filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${r.path}`);
    const documented = Object.entries(consoleOpenApiPaths()).flatMap(([p, ops]) =>
      Object.keys(ops as object).map((m) => `${m} ${p}`),
    );
    expect(new Set(documented)).toEqual(new Set(served));
  });
});
