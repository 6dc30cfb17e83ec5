// DOM helpers shared by the core, the prompts and the variants.
import { guard } from '../errors.js';

/**
 * Adopts `css` as a constructable stylesheet: no <style>, so a strict CSP needs no nonce. Returns
 * it, or nothing where there are none, or adoptedStyleSheets is not yet a mutable array (Safari <
 * 16.4, Chromium < 99): unstyled, but working.
 */
export function adopt(root: DocumentOrShadowRoot, css: string): CSSStyleSheet | undefined {
  try {
    const s = new CSSStyleSheet();
    s.replaceSync(css);
    root.adoptedStyleSheets.push(s);
    return s;
  } catch {}
}

/** A host element with an open shadow root styled by `css`, so the page's CSS does not reach in. */
export function shadow(doc: Document, tag: string, css: string): [HTMLElement, ShadowRoot] {
  const host = doc.createElement(tag);
  const root = host.attachShadow({ mode: 'open' });
  adopt(root, css);
  return [host, root];
}

/** Appends a new element; attribute values and text are set as text, never parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  parent: Node,
  tag: K,
  text?: unknown,
  attrs: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const e = parent.appendChild(parent.ownerDocument!.createElement(tag));
  for (const k in attrs) e.setAttribute(k, attrs[k]!);
  if (text != null) e.textContent = text as string;
  return e;
}

/** Runs `fn` once the document is parsed: now, or at DOMContentLoaded (guarded: never throws into the page). */
export const onReady = (doc: Document, fn: () => void): void =>
  doc.readyState == 'loading' ? doc.addEventListener('DOMContentLoaded', guard(fn)) : fn();

/**
 * Runs `fn` once, after the next frame is painted; in a hidden page, which paints nothing, at once
 * (in a task of its own), and so too when the page is hidden before that frame came.
 */
export const afterPaint = (fn: () => void): void => {
  let done = 0;
  const run = () => done || ((done = 1), setTimeout(fn));
  if (document.visibilityState == 'hidden') run();
  else requestAnimationFrame(run), document.addEventListener('visibilitychange', run, { once: true });
};
