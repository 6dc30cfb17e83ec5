// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { beforeEach, expect, test, vi } from 'vitest';
import type { Cairn } from '../src/cairn';
import { fakeServer, freshDevice, runHead, settle, type FakeServer } from './core-helpers';

// The script tag entry: starts from its own data-* attributes and replays the queued calls.

type Win = Window & { cairn?: unknown };
let srv: FakeServer;

beforeEach(() => {
  freshDevice();
  history.replaceState(null, '', '/');
  document.body.innerHTML = '';
  delete (window as Win).cairn;
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
  vi.resetModules();
});

/** Adds the script element, then runs the head and the core as the browser would. */
async function load(attrs: Record<string, string>, src = false): Promise<Cairn & { push(...c: unknown[]): void }> {
  await runHead(attrs, src ? attrs['data-src'] : undefined);
  // The core the head loads (happy-dom loads no script file): it takes over after a frame.
  await import('../src/entry/core');
  const c = (window as Win).cairn as Cairn & { push(...c: unknown[]): void };
  await c.ready;
  return c;
}

const sentTypes = async (c: Cairn) => {
  await settle();
  await c.flush();
  return [...srv.events.values()].map((e) => (e.type === 'page' ? 'page:' + e.path : e.type));
};

test('the array snippet: queued calls replay in order; a queued page() replaces the automatic one', async () => {
  (window as Win).cairn = [
    ['track', 'first', { n: 1 }],
    ['page', { path: '/queued' }],
    ['track', 'second'],
  ];
  const c = await load({ 'data-site': 'shop', 'data-server': 'http://sync.test' });
  expect(await sentTypes(c)).toEqual(['touch', 'first', 'page:/queued', 'second']);
  // push still works once loaded.
  c.push(['track', 'later']);
  expect((await sentTypes(c)).at(-1)).toBe('later');
});

test('the method stub snippet queues on the same array', async () => {
  // The snippet documented in src/script.ts, as a storefront pastes it.
  new Function(`
    window.cairn = window.cairn || [];
    ['page','track','identify','reset','consent','on'].forEach(function (m) {
      cairn[m] = cairn[m] || function () { cairn.push([m].concat([].slice.call(arguments))); };
    });
    cairn.track('clicked', { x: 1 });
    cairn.page({ path: '/stubbed' });
  `)();
  const c = await load({ 'data-site': 'shop', 'data-server': 'http://sync.test' });
  expect(await sentTypes(c)).toEqual(['touch', 'clicked', 'page:/stubbed']);
  expect(typeof c.history).toBe('function');
});

test('a page view is recorded by itself, unless data-auto-page="false"', async () => {
  history.replaceState(null, '', '/landing');
  const c = await load({ 'data-site': 'shop', 'data-server': 'http://sync.test' });
  expect(await sentTypes(c)).toEqual(['touch', 'page:/landing']);
  freshDevice();
  vi.stubGlobal('fetch', srv.fetch);
  srv.events.clear();
  vi.resetModules();
  document.body.innerHTML = '';
  const quiet = await load({ 'data-site': 'shop', 'data-server': 'http://sync.test', 'data-auto-page': 'false' });
  expect(await sentTypes(quiet)).toEqual(['touch']);
});

test('loaded from a sync server /v1/sdk.js: server and site default to it', async () => {
  const c = await load({ 'data-src': 'http://sync.test/v1/sdk.js?site=shop' }, true);
  await sentTypes(c);
  const collect = srv.requests.find((r) => r.path === '/v1/collect?site=shop')!;
  expect(collect.body.site).toBe('shop');
});

test('data-consent="pending": nothing leaves the page until consent', async () => {
  const c = await load({ 'data-site': 'shop', 'data-server': 'http://sync.test', 'data-consent': 'pending' });
  expect(await sentTypes(c)).toEqual([]);
  expect(srv.requests).toHaveLength(0);
  c.consent('granted');
  expect(await sentTypes(c)).toEqual(['touch', 'page:/']);
});

test('data-site-hosts: a referrer from a listed host is internal navigation', async () => {
  Object.defineProperty(document, 'referrer', { configurable: true, get: () => 'https://checkout.other-shop.test/' });
  try {
    const c = await load({
      'data-site': 'shop',
      'data-site-hosts': 'shop.test, other-shop.test',
      'data-auto-page': 'false',
    });
    expect(c.touch().current).toBeNull();
  } finally {
    delete (document as { referrer?: string }).referrer;
  }
});

test('a bad queue entry or a broken attribute never throws into the page', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  (window as Win).cairn = [['nope'], null, ['track', 'ok']];
  const c = await load({ 'data-site': 'shop', 'data-server': 'http://sync.test', 'data-consent': 'whatever' });
  expect(await sentTypes(c)).toContain('ok');
  expect(warn).toHaveBeenCalled();
});

test('a queued call that fails (identify with consent pending) is warned, never an unhandled rejection in the page', async () => {
  const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown) => unhandled.push(r);
  process.on('unhandledRejection', onUnhandled);
  try {
    (window as Win).cairn = [['identify', 'alice', 'signed:alice']];
    const c = await load({ 'data-site': 'shop', 'data-server': 'http://sync.test', 'data-consent': 'pending' });
    c.push(['profile'], ['history'], ['identify', 'bob', 'signed:bob']);
    await settle(20);
    expect(unhandled).toEqual([]);
    expect(warned.mock.calls.some((w) => /consent/.test(String(w[1])))).toBe(true);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
