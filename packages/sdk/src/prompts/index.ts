// Account and opt-in prompts: decides with pickPrompt, claims the right to show atomically in kv
// (so two tabs never both show it), then renders. Never throws into the host page.
import type { Prompt, PromptContext } from '../types';
import { pickPrompt, type PickInput, type PromptState } from './pick';
import { showPrompt } from './ui';

export { displayMode, pickPrompt, promptContent, type PickInput, type PromptState } from './pick';
export { validEmail, withReturn } from './ui';
export { globMatch } from '../util/glob';
export { isSafeUrl } from '../util/url';

const KEY = 'prompts';

/** Runs once per page view, after the core has recorded it and the DOM is ready. Resolves to the prompt shown, or null. */
export async function startPrompts(ctx: PromptContext): Promise<Prompt | null> {
  try {
    const { kv } = ctx;
    const list = ctx.config?.prompts;
    const o: PickInput = { ...ctx, now: Date.now() };
    // A plain read first, so page views with nothing to show never take the cross-tab lock.
    if (!pickPrompt(list, await kv.get(KEY), o)) return null;
    let p = null as Prompt | null;
    await kv.update<PromptState>(KEY, (s = {}) =>
      // Decided again on the freshest state: only the tab whose write claims it shows it.
      (p = pickPrompt(list, s, o)) ? { ...s, shown: { ...s.shown, [p.id]: ctx.sessionId } } : s,
    );
    if (p) showPrompt(ctx, p, KEY);
    return p;
  } catch {
    return null;
  }
}
