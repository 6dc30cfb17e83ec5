// Account and opt-in prompts, with their UI: what the ESM build and the tests use. The script tag's
// core decides with src/prompts/decide.ts and loads the UI only when a prompt is to show.
import type { Prompt, PromptContext } from '../types.js';
import { decidePrompt } from './decide.js';
import { showPrompt } from './ui.js';
import { PROMPTS_KEY } from '../storage/keys.js';

export { displayMode, pickPrompt, promptContent, type PickInput, type PromptState } from './pick.js';
export { validEmail, withReturn } from './ui.js';
export { globMatch } from '../util/glob.js';
export { isSafeUrl } from '../util/url.js';

export { PROMPTS_KEY };

/** The UI at hand. */
export const promptUi = async () => showPrompt;

/** decidePrompt (src/prompts/decide.ts) with the UI at hand. */
export const startPrompts = (ctx: PromptContext, state?: Promise<unknown>): Promise<Prompt | null> =>
  decidePrompt(ctx, state, promptUi);
