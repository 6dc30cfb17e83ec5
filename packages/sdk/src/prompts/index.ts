// Account and opt-in prompts: decides with pickPrompt, claims the right to show atomically in kv
// (so two tabs never both show it), then renders. Never throws into the host page.
import type { Prompt, PromptContext } from '../types';
import { displayMode, pickPrompt, promptContent, type PickInput, type PromptState } from './pick';
import { renderPrompt } from './ui';

export { displayMode, globMatch, pickPrompt, promptContent, type PickInput, type PromptState } from './pick';
export { renderPrompt, validEmail, type PromptHandlers } from './ui';
export { isSafeUrl, withReturn } from './url';

const KEY = 'prompts';

/** Runs once per page view, after the core has recorded it and the DOM is ready. Resolves to the prompt shown, or null. */
export async function startPrompts(ctx: PromptContext): Promise<Prompt | null> {
  try {
    const { kv, sessionId, device, touch, doc } = ctx;
    const list = ctx.config?.prompts;
    const o: PickInput = { ...ctx, now: Date.now() };
    // A plain read first, so page views with nothing to show never take the cross-tab lock.
    if (!pickPrompt(list, await kv.get(KEY), o)) return null;
    let p = null as Prompt | null;
    await kv.update<PromptState>(KEY, (s = {}) => {
      // Decided again on the freshest state: only the tab whose write claims it shows it.
      p = pickPrompt(list, s, o);
      return p ? { ...s, shown: { ...s.shown, [p.id]: sessionId } } : s;
    });
    if (!p) return null;
    const id = p.id;
    const { content: c, variant } = promptContent(p, touch);
    const ev = { prompt: id, variant, device };
    let sent: unknown;
    const mark = (k: 'done' | 'dismissed', extra?: PromptState) =>
      kv.update<PromptState>(KEY, (s = {}) => ({ ...s, ...extra, [k]: { ...s[k], [id]: Date.now() } })).catch(() => 0);
    const done = (extra?: PromptState) => {
      ctx.emit('prompt_submitted', ev);
      return (sent = mark('done', extra));
    };
    renderPrompt(doc, displayMode(p, device), p, c, {
      ret: ctx.returnUrl,
      close: () => sent || (ctx.emit('prompt_dismissed', ev), mark('dismissed')),
      follow: () => done(),
      async submit(email) {
        // The consent proof is the text the visitor saw next to the field.
        await ctx.submitOptin({ email, consentText: c.consent || c.title, promptId: id });
        await done({ optedIn: true });
        ctx.emit('optin', { prompt: id, email });
        // The storefront's own handler must not break the success state.
        (async () => ctx.onOptin?.({ email, promptId: id }))().catch(() => 0);
      },
    });
    ctx.emit('prompt_shown', ev);
    return p;
  } catch {
    return null;
  }
}
