// The prompts' UI for the script tag: a file of its own (dist/cairn-prompts.<hash>.js, beside the
// core), asked for the first time a prompt is to show. Most pages show none, and the UI is about a
// seventh of the core's bytes on the wire.
import { CairnError, warn } from '../errors.js';
import type { ShowPrompt } from './decide.js';

// The build replaces this literal with the UI's file name, e.g. cairn-prompts.0123abcd.js.
const PROMPTS_FILE = '__CAIRN_PROMPTS_FILE__';

/**
 * A ShowPrompt that loads the UI from beside `script` (the core's own tag), with its nonce for a
 * strict CSP, then renders. The file hands its showPrompt to the function given to `listen`. A UI
 * that cannot load (offline, blocked) shows nothing: no `prompt_shown` is sent, and it is warned.
 */
export function loadPrompts(
  script: HTMLScriptElement | null,
  listen: (receive: (show: ShowPrompt) => void) => void,
): ShowPrompt {
  let ui: Promise<ShowPrompt> | undefined;
  return (...args) => {
    ui ||= new Promise<ShowPrompt>((resolve, reject) => {
      listen(resolve);
      const tag = document.createElement('script');
      tag.src = new URL(PROMPTS_FILE, script!.src).href;
      tag.async = true;
      tag.nonce = script!.nonce || '';
      tag.onerror = () => reject(new CairnError('network'));
      document.head.append(tag);
    });
    ui.then((show) => show(...args), warn);
  };
}
