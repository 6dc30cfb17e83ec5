// @vitest-environment happy-dom
import 'fake-indexeddb/auto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, expect, test, vi } from 'vitest';
import { fakeServer, freshDevice, settle } from './core-helpers';

// The built IIFEs, run as a browser would run them, with a config embedded the way the sync
// server's /v1/sdk.js embeds it: the literal "__CAIRN_EMBEDDED_CONFIG__" replaced by the JSON as a
// JS string. The head runs first; the core it names runs after.
const dist = join(dirname(fileURLToPath(import.meta.url)), '../dist');
const head = readFileSync(join(dist, 'cairn.js'), 'utf8');
const coreFile = readdirSync(dist).find((f) => /^cairn-core\.[0-9a-f]{12}\.js$/.test(f))!;
const core = readFileSync(join(dist, coreFile), 'utf8');

type Api = {
  ready: Promise<void>;
  flush(): Promise<void>;
  touch(): { current: { source: string } };
  history(): Promise<{ pageViews: unknown[] }>;
};
const api = () => (window as unknown as { cairn: Api }).cairn;

beforeEach(() => {
  freshDevice();
  delete (window as { cairn?: unknown }).cairn;
  document.head.innerHTML = '';
});

/** Runs the head as a tag `<script data-site="shop" src=".../v1/sdk.js?site=shop">` would, the config embedded or not. */
function runHead(config?: object) {
  document.body.innerHTML = '';
  const s = document.createElement('script');
  s.setAttribute('data-site', 'shop');
  Object.defineProperty(s, 'src', { get: () => 'https://sync.test/v1/sdk.js?site=shop' });
  document.body.append(s);
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => s });
  const code = config
    ? head.replace('"__CAIRN_EMBEDDED_CONFIG__"', () => JSON.stringify(JSON.stringify(config)))
    : head;
  try {
    // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
    window.eval(code);
  } finally {
    delete (document as { currentScript?: unknown }).currentScript;
  }
}
const coreTag = () => document.head.querySelector('script');

test('the head names the core by its content hash, and asks for it from beside itself after first paint', async () => {
  expect(head.split('"' + coreFile + '"')).toHaveLength(2);
  runHead({ site: 'shop' });
  // Not before first paint: the request would hold it up.
  expect(coreTag()).toBeNull();
  await new Promise((painted) => requestAnimationFrame(() => setTimeout(painted)));
  expect(coreTag()?.getAttribute('src') ?? coreTag()?.src).toBe('https://sync.test/v1/' + coreFile);
  expect(coreTag()?.async).toBe(true);
});

test('without a config the head asks for the core at once: the slots wait, hidden, for the config it fetches', () => {
  runHead();
  expect(coreTag()?.getAttribute('src') ?? coreTag()?.src).toBe('https://sync.test/v1/' + coreFile);
});

test('a page hidden before its first frame still gets its core', async () => {
  const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible');
  // No frame comes: the page went to the background first (where the head also beacons what it held).
  vi.spyOn(window, 'requestAnimationFrame').mockImplementation(() => 0);
  vi.stubGlobal('navigator', Object.assign(Object.create(navigator), { sendBeacon: () => true }));
  try {
    runHead({ site: 'shop' });
    await new Promise((r) => setTimeout(r));
    expect(coreTag()).toBeNull();
    visibility.mockReturnValue('hidden');
    document.dispatchEvent(new Event('visibilitychange'));
    await new Promise((r) => setTimeout(r));
    expect(coreTag()?.getAttribute('src') ?? coreTag()?.src).toBe('https://sync.test/v1/' + coreFile);
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  }
});

test('a head that has nowhere to ask for its core settles every call instead of leaving it waiting', async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  document.body.innerHTML = '';
  const s = document.createElement('script');
  s.setAttribute('data-site', 'shop');
  // A server that is no URL, and no src to fall back on (an inline head).
  s.setAttribute('data-server', 'sync.example.com');
  document.body.append(s);
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => s });
  try {
    // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
    window.eval(head);
  } finally {
    delete (document as { currentScript?: unknown }).currentScript;
  }
  const stub = (window as unknown as { cairn: { ready: Promise<void>; history(): Promise<unknown> } }).cairn;
  await stub.ready;
  await expect(stub.history()).rejects.toMatchObject({ code: 'network' });
  expect(coreTag()).toBeNull();
  vi.restoreAllMocks();
});

test('dist/cairn.js applies the embedded config before first paint; the core then takes over and syncs', async () => {
  const srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
  history.replaceState(null, '', '/?utm_source=pinterest&utm_medium=social');
  document.body.innerHTML = '<h1 data-cairn-slot="hero">Default</h1>';
  const config = {
    site: 'shop',
    variants: [
      { id: 'pin', name: 'P', when: { source: 'pinterest' }, slots: { hero: { text: 'From "Pinterest" </script>' } } },
    ],
    // No holdout: every visitor gets the variant (test/holdout.test.ts tests the holdout).
    measurement: { holdout: 0 },
  };
  const served = head.replace('"__CAIRN_EMBEDDED_CONFIG__"', () => JSON.stringify(JSON.stringify(config)));
  const s = document.createElement('script');
  s.setAttribute('data-site', 'shop');
  s.setAttribute('data-server', 'http://sync.test');
  document.body.append(s);
  (window as { cairn?: unknown }).cairn = [['track', 'queued']];
  const requests = srv.requests.length;
  const writes = localStorage.length;
  // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
  window.eval(served);
  // Synchronously: the variant is applied, the touch is known, and nothing was stored or sent.
  expect(document.querySelector('h1')!.textContent).toBe('From "Pinterest" </script>');
  expect(api().touch().current.source).toBe('pinterest');
  expect(srv.requests.length).toBe(requests);
  expect(localStorage.length).toBe(writes);
  // The stub answers once the core has run.
  const ready = api().ready;
  // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
  window.eval(core);
  await ready;
  await api().ready;
  await settle();
  await api().flush();
  expect([...srv.events.values()].map((e) => e.type)).toEqual(['touch', 'variant_applied', 'queued', 'page']);
  // The embedded config needs no config request.
  expect(srv.requests.some((r) => r.path.startsWith('/v1/config'))).toBe(false);
  // The minified build stores the pinned format (test/stored-format.test.ts), whatever its property names.
  const stored = JSON.parse(localStorage.getItem('cairn')!);
  expect(Object.keys(stored).every((k) => 'vdnflcsaxtkug'.includes(k) && k.length === 1)).toBe(true);
  expect(stored).toMatchObject({
    v: 1,
    d: expect.any(String),
    t: expect.any(String),
    f: { source: 'pinterest' },
    x: 'pin',
  });
});

test('unreplaced, the literal is no config: the bundle runs without one', async () => {
  vi.stubGlobal('fetch', fakeServer().fetch);
  document.body.innerHTML = '<script data-site="shop"></script>';
  // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
  window.eval(head);
  // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
  window.eval(core);
  await api().ready;
  await settle();
  expect((await api().history()).pageViews).toHaveLength(1);
});

test('the core throws the codes the API promises, with the head’s functions and error type', async () => {
  vi.stubGlobal('fetch', fakeServer().fetch);
  document.body.innerHTML = '<script data-site="shop"></script>';
  // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
  window.eval(head);
  // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
  window.eval(core);
  await api().ready;
  // A malformed login token: `invalid`, never wrapped as `internal` because the error type the core
  // throws is the head's (the hand-over).
  const cairn = api() as unknown as { identify(token: string): Promise<unknown> };
  await expect(cairn.identify('token')).rejects.toMatchObject({ name: 'CairnError', code: 'invalid' });
});

test('a core from another build than the head on the page does nothing, and throws nothing', async () => {
  vi.stubGlobal('fetch', fakeServer().fetch);
  document.body.innerHTML = '<script data-site="shop"></script>';
  // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
  window.eval(head);
  const stub = (window as unknown as { cairn: Record<string, unknown> }).cairn;
  const lib = Object.values(stub).find((v) => Array.isArray(v) && typeof v[0] === 'string' && v.length > 10);
  expect(lib, "the head's hand-over array, its token first").toBeDefined();
  (lib as unknown[])[0] = 'another build';
  const errors: unknown[] = [];
  const onError = (e: ErrorEvent) => errors.push(e.error);
  window.addEventListener('error', onError);
  try {
    // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
    window.eval(core);
    await settle();
  } finally {
    window.removeEventListener('error', onError);
  }
  expect(errors).toEqual([]);
  // Not taken over: still the stub, whose calls queue.
  expect(Object.values(stub).includes(1)).toBe(false);
  expect(typeof (stub as { push: unknown }).push).toBe('function');
  expect(localStorage.length).toBe(0);
});

test('the core asks for the prompts’ UI beside the tag the head made for it, with its nonce, without currentScript', async () => {
  const srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
  const config = {
    site: 'shop',
    prompts: [{ id: 'guide', kind: 'optin', trigger: { afterPages: 1 }, content: { title: 'Guide', cta: 'Send' } }],
    measurement: { holdout: 0 },
  };
  document.body.innerHTML = '<main><h1>Shop</h1></main>';
  const appended: string[] = [];
  const append = document.head.append.bind(document.head);
  vi.spyOn(document.head, 'append').mockImplementation((...nodes) => {
    for (const n of nodes) if (n instanceof HTMLScriptElement) appended.push(`${n.src} ${n.nonce}`);
    append(...nodes);
  });
  const s = document.createElement('script');
  s.setAttribute('data-site', 'shop');
  Object.defineProperty(s, 'src', { get: () => 'https://sync.test/v1/sdk.js?site=shop' });
  s.nonce = 'n0nce';
  document.body.append(s);
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => s });
  try {
    // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
    window.eval(head.replace('"__CAIRN_EMBEDDED_CONFIG__"', () => JSON.stringify(JSON.stringify(config))));
  } finally {
    delete (document as { currentScript?: unknown }).currentScript;
  }
  await new Promise((painted) => requestAnimationFrame(() => setTimeout(painted)));
  expect(appended).toEqual([`https://sync.test/v1/${coreFile} n0nce`]);
  // The core runs with document.currentScript unset, as under a script loader.
  // biome-ignore lint/security/noGlobalEval: running the built bundle as a browser would is the test
  window.eval(core);
  await api().ready;
  await settle();
  const prompts = readdirSync(dist).find((f) => /^cairn-prompts\.[0-9a-f]{12}\.js$/.test(f))!;
  expect(appended).toEqual([`https://sync.test/v1/${coreFile} n0nce`, `https://sync.test/v1/${prompts} n0nce`]);
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});
