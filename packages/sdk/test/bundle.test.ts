// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, expect, test, vi } from 'vitest';
import { fakeServer, freshDevice, settle } from './core-helpers';

// The built IIFE, run as a browser would run it, with a config embedded the way the sync server's
// /v1/sdk.js embeds it: the literal "__CAIRN_EMBEDDED_CONFIG__" replaced by the JSON as a JS string.
const js = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../dist/cairn.js'), 'utf8');

beforeEach(() => {
  freshDevice();
  delete (window as { cairn?: unknown }).cairn;
});

test('dist/cairn.js starts by itself, applies the embedded config before first paint, and syncs', async () => {
  const srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
  history.replaceState(null, '', '/?utm_source=pinterest&utm_medium=social');
  document.body.innerHTML = '<h1 data-cairn-slot="hero">Default</h1>';
  const config = { site: 'shop', variants: [{ id: 'pin', name: 'P', when: { source: 'pinterest' }, slots: { hero: { text: 'From "Pinterest" </script>' } } }] };
  const served = js.replace('"__CAIRN_EMBEDDED_CONFIG__"', () => JSON.stringify(JSON.stringify(config)));
  const s = document.createElement('script');
  s.setAttribute('data-site', 'shop');
  s.setAttribute('data-server', 'http://sync.test');
  document.body.append(s);
  (window as { cairn?: unknown }).cairn = [['track', 'queued']];
  window.eval(served);
  // Synchronously: the variant is applied and the API is there.
  expect(document.querySelector('h1')!.textContent).toBe('From "Pinterest" </script>');
  const c = (window as unknown as { cairn: { ready: Promise<void>; flush(): Promise<void>; touch(): { current: { source: string } } } }).cairn;
  expect(c.touch().current.source).toBe('pinterest');
  await c.ready;
  await settle();
  await c.flush();
  expect([...srv.events.values()].map((e) => e.type)).toEqual(['touch', 'variant_applied', 'queued', 'page']);
  // The embedded config needs no config request.
  expect(srv.requests.some((r) => r.path.startsWith('/v1/config'))).toBe(false);
});

test('unreplaced, the literal is no config: the bundle runs without one', async () => {
  vi.stubGlobal('fetch', fakeServer().fetch);
  document.body.innerHTML = '<script data-site="shop"></script>';
  window.eval(js);
  const c = (window as unknown as { cairn: { ready: Promise<void>; history(): Promise<{ pageViews: unknown[] }> } }).cairn;
  await c.ready;
  await settle();
  expect((await c.history()).pageViews).toHaveLength(1);
});
