// The prompts' UI for the script tag: a file of its own (dist/cairn-prompts.<hash>.js, beside the
// core), asked for the first time a prompt is to show. Most pages show none, and the UI is about a
// seventh of the core's bytes on the wire.
import { CairnError } from '../errors.js';
import type { PromptUi, ShowPrompt } from './decide.js';

// The build replaces this literal with the UI's file name, e.g. cairn-prompts.0123abcd.js.
const PROMPTS_FILE = '__CAIRN_PROMPTS_FILE__';
/** How long a prompt waits for its UI: the next page view asks again. */
export const UI_TIMEOUT_MS = 10_000;

/**
 * The UI from its file beside `script` (the core's tag), with its nonce for a strict CSP: asked for
 * on the first call, and every call until one has it. The file hands its showPrompt to the function
 * given to `listen`. A file that cannot load (offline, blocked), hands nothing over or takes over
 * UI_TIMEOUT_MS rejects the calls that waited for it, and is warned: no prompt is claimed, shown or
 * counted.
 */
export function loadPrompts(
  script: HTMLScriptElement | null,
  listen: (receive: (show: ShowPrompt) => void) => void,
): PromptUi {
  let ui: Promise<ShowPrompt> | undefined;
  let tag: HTMLScriptElement | undefined;
  // Warned once for the page, on its own: warn()'s once-per-code memory would hide it behind an
  // earlier `network` warning from the sync.
  let warned = 0;
  return () =>
    (ui ||= new Promise<ShowPrompt>((resolve, reject) => {
      listen(resolve);
      tag = document.createElement('script');
      tag.src = new URL(PROMPTS_FILE, script!.src).href;
      tag.async = true;
      tag.nonce = script!.nonce || '';
      tag.onerror = () => reject(new CairnError('network'));
      // Ran without handing the UI over (another script took window.cairn), or never ran (a consent
      // tool that holds scripts back, a connection that hangs): settled all the same.
      tag.onload = () => reject(new CairnError('internal'));
      setTimeout(() => reject(new CairnError('network')), UI_TIMEOUT_MS);
      document.head.append(tag);
    }).catch((e) => {
      // The next attempt adds a tag of its own: a page that retries does not pile up failed ones.
      tag?.remove();
      ui = undefined;
      warned++ || console.warn('[cairn] prompts', e);
      throw e;
    }));
}
