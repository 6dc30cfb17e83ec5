// Observes Cairn's prompts across every page of a context: each time a prompt host
// (`[data-cairn-prompt]`) enters a document, the test hears which page and mode it was.
import type { BrowserContext, Page } from '@playwright/test';

export interface PromptSighting {
  path: string;
  mode: string;
}

export async function watchPrompts(context: BrowserContext): Promise<PromptSighting[]> {
  const seen: PromptSighting[] = [];
  await context.exposeFunction('__promptSeen', (s: PromptSighting) => {
    seen.push(s);
  });
  await context.addInitScript(() => {
    const report = (window as unknown as { __promptSeen: (s: { path: string; mode: string }) => void }).__promptSeen;
    const known = new WeakSet<Element>();
    new MutationObserver(() => {
      document.querySelectorAll('[data-cairn-prompt]').forEach((el) => {
        if (known.has(el)) return;
        known.add(el);
        report({ path: location.pathname, mode: el.getAttribute('data-cairn-prompt') ?? '' });
      });
    }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-cairn-prompt'] });
  });
  return seen;
}

/** Fixed or absolutely positioned boxes (shadow roots and the top layer included) covering more than `share` of the viewport. */
export function coveringElements(
  page: Page,
  share: number,
): Promise<{ tag: string; position: string; share: number }[]> {
  return page.evaluate((limit) => {
    const vw = window.innerWidth;
    const vh = window.innerHeight;
    const out: { tag: string; position: string; share: number }[] = [];
    const walk = (root: Document | ShadowRoot) => {
      root.querySelectorAll('*').forEach((el) => {
        const cs = getComputedStyle(el);
        if (
          (cs.position === 'fixed' || cs.position === 'absolute' || cs.position === 'sticky') &&
          cs.display !== 'none' &&
          cs.visibility !== 'hidden'
        ) {
          const r = el.getBoundingClientRect();
          const w = Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0));
          const h = Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
          const s = (w * h) / (vw * vh);
          if (s > limit)
            out.push({ tag: el.tagName.toLowerCase(), position: cs.position, share: Math.round(s * 100) / 100 });
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      });
    };
    walk(document);
    return out;
  }, share);
}
