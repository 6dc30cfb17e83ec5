// Account and opt-in prompts: decides with pickPrompt, claims the right to show atomically in kv
// (so two tabs never both show it), then renders. Never throws into the host page.
import type { Prompt, PromptContext } from '../types.js';
import { pickPrompt, type PickInput, type PromptState } from './pick.js';
import { showPrompt } from './ui.js';

export { displayMode, pickPrompt, promptContent, type PickInput, type PromptState } from './pick.js';
export { validEmail, withReturn } from './ui.js';
export { globMatch } from '../util/glob.js';
export { isSafeUrl } from '../util/url.js';

/** The prompts' state in the Kv. */
export const PROMPTS_KEY = 'prompts';

/**
 * Runs once per page view, after the core has recorded it and the DOM is ready. Resolves to the
 * prompt shown, or null. The decision is made inside one atomic update of the prompts' state, so
 * only the tab whose write claims the prompt shows it; a page with nothing to show changes nothing.
 */
export async function startPrompts(ctx: PromptContext): Promise<Prompt | null> {
  let p: Prompt | null = null;
  try {
    const o: PickInput = { ...ctx, now: Date.now() };
    await ctx.kv.update<PromptState | undefined>(PROMPTS_KEY, (s) => ((p = pickPrompt(ctx.config?.prompts, s, o)) ? { ...s, shown: { ...s?.shown, [p.id]: ctx.sessionId } } : s));
    if (p) showPrompt(ctx, p, PROMPTS_KEY);
    return p;
  } catch {
    return null;
  }
}
