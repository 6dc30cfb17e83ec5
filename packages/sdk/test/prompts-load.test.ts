// @vitest-environment happy-dom
import { afterEach, expect, test, vi } from 'vitest';
import { loadPrompts } from '../src/prompts/load';
import type { ShowPrompt } from '../src/prompts/decide';

// The script tag's core asks for the prompts' UI the first time a prompt is to show, from beside its
// own tag and with its nonce; every prompt waits for the one file, and none shows if it cannot load.

afterEach(() => vi.restoreAllMocks());

/** The core's own tag, as the browser has it while the core runs; and the tags the loader appends. */
function setup() {
  const core = document.createElement('script');
  Object.defineProperty(core, 'src', { get: () => 'https://sync.test/v1/cairn-core.0123456789ab.js' });
  core.nonce = 'n0nce';
  const appended: HTMLScriptElement[] = [];
  // Appended tags are kept, not loaded: the test plays the browser.
  vi.spyOn(document.head, 'append').mockImplementation((...nodes) => {
    appended.push(...(nodes as HTMLScriptElement[]));
  });
  let receive: ((show: ShowPrompt) => void) | undefined;
  const show = loadPrompts(core, (r) => (receive = r));
  return { show, appended, arrive: (ui: ShowPrompt) => receive?.(ui) };
}

const args = (id: string) => [{} as never, { id } as never, 'prompts', false] as Parameters<ShowPrompt>;

test('the first prompt asks for the UI from beside the core, with its nonce; later ones wait for the same file', async () => {
  const { show, appended, arrive } = setup();
  expect(appended).toHaveLength(0);
  show(...args('a'));
  show(...args('b'));
  expect(appended).toHaveLength(1);
  const tag = appended[0]!;
  // Its name is the build's (dist/cairn-prompts.<hash>.js, test/budget.test.ts); here, the source's.
  expect(tag.src).toBe('https://sync.test/v1/__CAIRN_PROMPTS_FILE__');
  expect(tag.async).toBe(true);
  expect(tag.nonce).toBe('n0nce');

  const rendered: string[] = [];
  arrive(((_ctx, prompt) => void rendered.push(prompt.id)) as ShowPrompt);
  await Promise.resolve();
  expect(rendered).toEqual(['a', 'b']);
  show(...args('c'));
  await Promise.resolve();
  expect(rendered).toEqual(['a', 'b', 'c']);
  expect(appended).toHaveLength(1);
});

test('a UI that cannot load shows nothing and throws nothing into the page', async () => {
  const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const { show, appended, arrive } = setup();
  show(...args('a'));
  appended[0]!.onerror?.(new Event('error'));
  const rendered: string[] = [];
  arrive(((_ctx, prompt) => void rendered.push(prompt.id)) as ShowPrompt);
  await new Promise((r) => setTimeout(r));
  expect(rendered).toEqual([]);
  expect(warned).toHaveBeenCalled();
});

test('without the core’s tag (not run as a script) nothing is asked for and nothing throws', async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  const appended: Node[] = [];
  vi.spyOn(document.head, 'append').mockImplementation((...nodes) => void appended.push(...(nodes as Node[])));
  const show = loadPrompts(null, () => {});
  expect(() => show(...args('a'))).not.toThrow();
  await Promise.resolve();
  expect(appended).toHaveLength(0);
});
