// Which prompt, if any, this page view gets. Pure and DOM-free so the rules are unit-testable.
// The config may be unvalidated inline JSON, so every defaulted field is read defensively.
import type { DeviceKind, Prompt, PromptContent, Touch, TraitsMatcher } from '../types.js';
import { arr } from '../util/arr.js';
import { globMatch, same } from '../util/glob.js';

/** Kept in kv under 'prompts'. Survives reloads and is shared by tabs. */
export interface PromptState {
  /** Prompt id → the session (visit) it was shown in. */
  shown?: Record<string, string>;
  /** Prompt id → when it was dismissed (epoch ms). */
  dismissed?: Record<string, number>;
  /** Prompt id → when it was submitted (opt-in sent, or account link followed). */
  done?: Record<string, number>;
  optedIn?: boolean;
}

export interface PickInput {
  pages: { session: number; lifetime: number };
  path: string;
  touch: Touch | null;
  device: DeviceKind;
  identified: boolean;
  now: number;
  sessionId: string;
  /** Whether the person's CRM traits match `want` (src/variants/match.ts); left out, they never do. */
  _traits?(want: TraitsMatcher): boolean;
}

const some = (list: unknown, f: (x: unknown) => boolean) => arr(list).some(f);
const has = (list: unknown, v: unknown) => v != null && some(list, (x) => same(x, v));
const anyGlob = (list: unknown, path: string) => some(list, (g) => globMatch(g, path));

/** The first prompt whose trigger, audience, snooze and frequency rules all pass; null if none. */
export function pickPrompt(
  prompts: readonly Prompt[] | undefined,
  state: PromptState | undefined,
  o: PickInput,
): Prompt | null {
  const s = state || {};
  // One prompt per visit at most, whichever it was: two prompts on consecutive pages would be a nag.
  if (Object.values(s.shown || {}).includes(o.sessionId)) return null;
  return (
    arr<Prompt>(prompts).find((p) => {
      const t: Partial<Prompt['trigger']> = p?.trigger || {};
      const a: Partial<Prompt['audience']> = p?.audience || {};
      return (
        p?.id &&
        p.content &&
        // From the Nth page on, not only the Nth: a page skipped by the rules below must not lose it.
        (t.scope == 'lifetime' ? o.pages.lifetime : o.pages.session) >= (t.afterPages ?? 3) &&
        s.done?.[p.id] == null &&
        !(o.now - s.dismissed?.[p.id]! < (p.snoozeDays ?? 7) * 864e5) &&
        // `identified: false` / `optedIn: false` (the defaults) keep those visitors out; `true` lets them in too.
        // `traits` is for identified people only: it lets them in, and no one else.
        (!o.identified || a.identified === true || !!a.traits) &&
        (!a.traits || !!o._traits?.(a.traits)) &&
        (!s.optedIn || a.optedIn === true) &&
        (!a.channels || has(a.channels, o.touch?.channel)) &&
        (!a.sources || has(a.sources, o.touch?.source)) &&
        (!a.includePaths || anyGlob(a.includePaths, o.path)) &&
        !anyGlob(a.excludePaths || ['/cart', '/cart/**', '/checkout', '/checkout/**'], o.path)
      );
    }) || null
  );
}

/** The content for this touch: `contentBySource[source]`, else `[channel]`, over the base content. */
export function promptContent(p: Prompt, touch: Touch | null): { content: PromptContent; variant: string } {
  const by = p.contentBySource || {};
  const find = (v: string) => Object.keys(by).find((k) => same(k, v));
  const key = touch && (find(touch.source) || find(touch.channel));
  return { content: { ...p.content, ...(key && by[key]) }, variant: key || 'default' };
}

/** Mobile is always inline, never an overlay. Desktop gets the pop-in unless the config says inline. */
export const displayMode = (p: Prompt, device: DeviceKind): 'popin' | 'inline' =>
  device == 'desktop' && p.display?.desktop != 'inline' ? 'popin' : 'inline';
