// @vitest-environment happy-dom
import { afterEach, expect, test, vi } from 'vitest';
import { CairnError, warn } from '../src/errors';
import { loadPrompts, UI_TIMEOUT_MS } from '../src/prompts/load';
import type { ShowPrompt } from '../src/prompts/decide';

// The script tag's core asks for the prompts' UI the first time a prompt is to show, from beside its
// own tag and with its nonce; every prompt waits for the one file, and a file that cannot be had
// rejects, so that nothing is claimed (test/prompts-ui.test.ts).

afterEach(() => vi.restoreAllMocks());

/** The core's own tag, as the browser has it while the core runs; and the tags the loader appends. */
function setup() {
  const core = document.createElement('script');
  Object.defineProperty(core, 'src', { get: () => 'https://sync.test/v1/cairn-core.0123456789ab.js' });
  core.nonce = 'n0nce';
  const appended: HTMLScriptElement[] = [];
  // Appended tags are kept in a detached element, not loaded: the test plays the browser.
  const holder = document.createElement('div');
  vi.spyOn(document.head, 'append').mockImplementation((...nodes) => {
    appended.push(...(nodes as HTMLScriptElement[]));
    holder.append(...nodes);
  });
  let receive: ((show: ShowPrompt) => void) | undefined;
  const ui = loadPrompts(core, (r) => (receive = r));
  return { ui, appended, arrive: (show: ShowPrompt) => receive?.(show) };
}

const show: ShowPrompt = () => {};

test('the first call asks for the UI from beside the core, with its nonce; every call gets that one file', async () => {
  const { ui, appended, arrive } = setup();
  expect(appended).toHaveLength(0);
  const first = ui();
  const second = ui();
  expect(appended).toHaveLength(1);
  const tag = appended[0]!;
  // Its name is the build's (dist/cairn-prompts.<hash>.js, test/budget.test.ts); here, the source's.
  expect(tag.src).toBe('https://sync.test/v1/__CAIRN_PROMPTS_FILE__');
  expect(tag.async).toBe(true);
  expect(tag.nonce).toBe('n0nce');
  arrive(show);
  // The file ran, and then the browser fires load: it changes nothing.
  tag.onload?.(new Event('load'));
  expect(await first).toBe(show);
  expect(await second).toBe(show);
  expect(await ui()).toBe(show);
  expect(appended).toHaveLength(1);
});

test('a file that cannot load rejects the calls that waited for it, is warned and removed, and the next call asks again', async () => {
  const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
  // The sync failed earlier on this page: its warning does not hide the UI's.
  warn(new CairnError('network'));
  const { ui, appended, arrive } = setup();
  const first = ui();
  const second = ui();
  appended[0]!.onerror?.(new Event('error'));
  await expect(first).rejects.toMatchObject({ name: 'CairnError', code: 'network' });
  await expect(second).rejects.toMatchObject({ code: 'network' });
  expect(appended).toHaveLength(1);
  expect(warned).toHaveBeenCalledTimes(2);
  expect(appended[0]!.parentNode).toBeNull();
  // A later prompt (an SPA's next page) asks again, and gets it.
  const third = ui();
  expect(appended).toHaveLength(2);
  arrive(show);
  expect(await third).toBe(show);
});

test('a file that ran without handing the UI over rejects, rather than leave prompts waiting', async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  const { ui, appended } = setup();
  const first = ui();
  appended[0]!.onload?.(new Event('load'));
  await expect(first).rejects.toMatchObject({ code: 'internal' });
});

test('without the core’s tag (not run as a script) nothing is asked for, and the call rejects', async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  const appended: Node[] = [];
  vi.spyOn(document.head, 'append').mockImplementation((...nodes) => void appended.push(...(nodes as Node[])));
  const ui = loadPrompts(null, () => {});
  await expect(ui()).rejects.toBeInstanceOf(Error);
  expect(appended).toHaveLength(0);
});

test('a file that never answers (held back, or a hanging connection) rejects after UI_TIMEOUT_MS', async () => {
  vi.useFakeTimers();
  try {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { ui, appended } = setup();
    const first = ui();
    const settled = first.catch((e: { code?: string }) => e.code);
    await vi.advanceTimersByTimeAsync(UI_TIMEOUT_MS - 1);
    expect(await Promise.race([settled, 'waiting'])).toBe('waiting');
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled).toBe('network');
    // The next call asks again.
    void ui().catch(() => {});
    expect(appended).toHaveLength(2);
  } finally {
    vi.useRealTimers();
  }
});
