// The prompt's DOM: a modal <dialog> pop-in, or an in-flow block, in a shadow root. Config text is
// only ever set with textContent; links pass isSafeUrl.
import type { Prompt, PromptContent } from '../types';
import { CSS } from './css';
import { isSafeUrl, withReturn } from './url';

export interface PromptHandlers {
  /** The URL account links send the visitor back to. */
  ret: string;
  /** The visitor closed it (close button, Esc). */
  close(): void;
  /** An account link was followed. */
  follow(): void;
  /** Sends the opt-in; rejects when it fails. */
  submit(email: string): Promise<void>;
}

/** Close to the server's rule (zod's email); the server has the last word. */
export const validEmail = (v: string): boolean =>
  v.length < 255 && /^[\w.'+-]+@([\w-]+\.)+[a-z]{2,}$/i.test(v);

/** Builds and shows the prompt; returns its host element. */
export function renderPrompt(doc: Document, mode: 'popin' | 'inline', p: Prompt, c: PromptContent, h: PromptHandlers): HTMLElement {
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, parent: Node, attrs: Record<string, string> = {}, text?: unknown) => {
    const e = doc.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]!);
    if (text != null) e.textContent = text as string;
    parent.appendChild(e);
    return e;
  };
  const host = doc.createElement('div');
  const root = host.attachShadow({ mode: 'open' });
  const popin = mode == 'popin';
  const box = el(popin ? 'dialog' : 'section', root, { class: 'b', 'aria-labelledby': 't' }) as HTMLDialogElement;
  if (c.locale) box.lang = c.locale;
  // The × is drawn by CSS, so the button's name is its label alone (no label/content mismatch).
  const x = el('button', box, { class: 'x', 'aria-label': c.dismiss || 'Close' });
  const prev = doc.activeElement as HTMLElement | null;
  // Runs once: Esc fires `cancel` then `close`, and close() may fire `close` again.
  const end = () => {
    if (!host.isConnected) return;
    host.remove();
    box.close?.();
    if (popin) prev?.focus?.();
    h.close();
  };
  host.dataset.cairnPrompt = mode;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {
    /* no constructable stylesheets: unstyled but working */
  }
  el('h2', box, { id: 't' }, c.title);
  if (c.body) el('p', box, {}, c.body);

  if (p.kind == 'optin') {
    const f = el('form', box);
    el('label', f, { for: 'e' }, 'Email');
    const inp = el('input', f, { id: 'e', type: 'email', autocomplete: 'email', required: '', placeholder: c.placeholder || '', 'aria-describedby': 'c' });
    const btn = el('button', f, { class: 'a' }, c.cta);
    el('p', f, { id: 'c', class: 'c' }, c.consent);
    const st = el('p', box, { role: 'status' });
    const say = (state: string, text = c.error || 'Please try again.') => {
      st.setAttribute('data-state', state);
      st.textContent = text;
    };
    f.onsubmit = async (e) => {
      e.preventDefault();
      // Disabled while pending and after success, so a double submit sends nothing twice.
      if (btn.disabled) return;
      const v = inp.value.trim();
      const ok = validEmail(v);
      inp.setAttribute('aria-invalid', String(!ok));
      if (!ok) return say('invalid'), inp.focus();
      btn.disabled = true;
      say('pending', '');
      try {
        await h.submit(v);
        f.hidden = true;
        say('ok', c.success || 'Thank you!');
        x.focus();
      } catch {
        btn.disabled = false;
        say('error');
      }
    };
  } else {
    const row = el('div', box, { class: 'p' });
    const link = (url: unknown, text: unknown, cls: string) => {
      if (isSafeUrl(url)) el('a', row, { class: cls, href: withReturn(url, h.ret) }, text).onclick = h.follow;
    };
    link(c.loginUrl, c.cta, 'a');
    for (const pr of Array.isArray(c.providers) ? c.providers : []) link(pr?.url, pr?.name, '');
  }

  x.onclick = end;
  if (popin) {
    // Esc fires `cancel` then `close` (only `close` without user activation): either ends it.
    box.oncancel = box.onclose = end;
    doc.body.appendChild(host);
    // showModal makes the rest of the page inert; without it, at least show the dialog.
    if (box.showModal) box.showModal();
    else box.open = true;
    (box.querySelector<HTMLElement>('input,a') || x).focus();
  } else {
    let at: Element | null = null;
    try {
      at = p.inlineAnchor ? doc.querySelector(p.inlineAnchor) : null;
    } catch {
      /* an invalid selector falls back to the defaults */
    }
    (at || doc.querySelector('[data-cairn-inline]') || doc.querySelector('main') || doc.body).appendChild(host);
  }
  return host;
}
