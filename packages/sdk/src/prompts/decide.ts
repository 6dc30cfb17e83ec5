// Account and opt-in prompts: decides with pickPrompt, claims the right to show atomically in kv
// (so two tabs never both show it), then renders it. Never throws into the host page. The UI is
// passed in: the script tag's core asks for it from a file of its own, the first time a prompt is to
// show (src/prompts/load.ts), as most pages show none.
import type { Prompt, PromptContext } from '../types.js';
import { HOLDOUT, promptArm } from '../variants/holdout.js';
import { pickPrompt, promptContent, type PickInput, type PromptState } from './pick.js';
import type { showPrompt } from './ui.js';
import { PROMPTS_KEY } from '../storage/keys.js';

/** Renders a prompt (src/prompts/ui.ts). */
export type ShowPrompt = typeof showPrompt;
/** The UI, at hand or once its file is there; rejects when it cannot be had. */
export type PromptUi = () => Promise<ShowPrompt>;

/**
 * Runs once per page view, after the core has recorded it and the DOM is ready, and once the page
 * is seen: a prompt decided in a hidden tab would be used up, and counted, unseen. Resolves to the
 * prompt claimed and rendered, or null. The decision is read first (`state`: the prompts' state as
 * read in the page view's storage batch), so a page with nothing to show writes nothing; a prompt
 * to show is then claimed inside one atomic update, so only the tab whose write claims it shows it.
 *
 * A visitor in the prompt's holdout (src/variants/holdout.ts) gets no prompt: the claim is the
 * same, and `prompt_held` is sent where `prompt_shown` would be. Resolves to null then.
 * Without consent (an arm of null) the prompt shows, and neither is sent: nothing is counted.
 */
export async function decidePrompt(
  ctx: PromptContext,
  state: Promise<unknown> | undefined,
  ui: PromptUi,
): Promise<Prompt | null> {
  let p: Prompt | null = null;
  try {
    const doc = ctx.doc;
    if (doc.visibilityState == 'hidden')
      await new Promise<void>((seen) =>
        doc.addEventListener('visibilitychange', function shown() {
          if (doc.visibilityState != 'hidden') doc.removeEventListener('visibilitychange', shown), seen();
        }),
      );
    if (ctx._current?.() === false) return null;
    const o: PickInput = { ...ctx, now: Date.now() };
    if (!pickPrompt(ctx.config?.prompts, (await (state || ctx.kv.get(PROMPTS_KEY))) as PromptState | undefined, o))
      return null;
    // The UI before the claim: a prompt claimed is one shown (or held out), never one whose UI failed
    // to load, which would count as seen without having been.
    const show = await ui();
    // A later page view (an SPA's next route) decides for itself: this one is stale.
    if (ctx._current?.() === false) return null;
    await ctx.kv.update<PromptState | undefined>(PROMPTS_KEY, (s) =>
      (p = pickPrompt(ctx.config?.prompts, s, o)) ? { ...s, shown: { ...s?.shown, [p.id]: ctx.sessionId } } : s,
    );
    if (!p) return null;
    const prompt: Prompt = p;
    const share = prompt.holdout ?? ctx.config.measurement?.holdout ?? HOLDOUT;
    const arm = ctx._heldOut?.(promptArm(prompt.id), share);
    if (!arm) return (show(ctx, prompt, PROMPTS_KEY, arm === null), prompt);
    ctx.emit('prompt_held', {
      prompt: prompt.id,
      variant: promptContent(prompt, ctx.touch).variant,
      device: ctx.device,
    });
    return null;
  } catch {
    return null;
  }
}
