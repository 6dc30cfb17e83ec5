import type { SlotAction } from '../types.js';
import { adopt } from '../util/dom.js';
import { isSafeUrl } from '../util/url.js';

// Applies a variant's slot actions to `[data-cairn-slot]` elements. No raw HTML ever: text goes
// through textContent, URLs only when isSafeUrl (http(s) or relative).

export const APPLIED = 'data-cairn-applied';
const SLOT = '[data-cairn-slot]';

/**
 * Applies `slots` to the slot elements under `root`, and marks them with data-cairn-applied.
 * Every action is idempotent, so applying again only repairs what the parser appended since.
 * Returns the names of the slots applied for the first time by this call. `held` (the visitor is
 * in the holdout): changes nothing, and returns the names of every slot the variant would change.
 */
export function applySlots(root: Document | Element, slots: Record<string, SlotAction>, held?: boolean): string[] {
  const done: string[] = [];
  root.querySelectorAll(SLOT).forEach((el) => {
    const n = el.getAttribute('data-cairn-slot')!;
    // Own keys only: a slot named "constructor" must not reach Object.prototype.
    const a = Object.hasOwn(slots, n) && slots[n];
    if (!a) return;
    if (held) return void done.push(n);
    // Compare first: setting the same text again would wake the MutationObserver forever.
    if (a.text != null && el.textContent != a.text) el.textContent = a.text;
    for (const k of ['src', 'srcset', 'href', 'alt'] as const) {
      const x = a[k];
      // Only when it changes, so re-applying never restarts an image load.
      if ((k == 'alt' ? x != null : isSafeUrl(x)) && el.getAttribute(k) != x) {
        el.setAttribute(k, x!);
        // A default srcset would win over the variant's src.
        if (k == 'src' && a.srcset == null) el.removeAttribute('srcset');
      }
    }
    if (a.hidden != null) el.toggleAttribute('hidden', !!a.hidden);
    if (a.addClass) el.classList.add(...[a.addClass].flat().filter((c) => /^[\w-]+$/.test(c)));
    if (!el.hasAttribute(APPLIED)) done.push(n), el.setAttribute(APPLIED, '');
  });
  return done;
}

/**
 * For a late config (async script, config from the network): hides the slots not applied yet until
 * `release()`, or `ms` at most. Never the whole page. Without constructable stylesheets (Safari <
 * 16.4), nothing is hidden.
 */
export function hideSlots(doc: Document, ms = 300): () => void {
  const s = adopt(doc, SLOT + `:not([${APPLIED}]){visibility:hidden!important}`);
  const release = () => {
    clearTimeout(t);
    if (s) doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((x) => x != s);
  };
  const t = setTimeout(release, ms);
  return release;
}
