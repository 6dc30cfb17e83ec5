// The prompt's DOM: a modal <dialog> pop-in, or an in-flow block, in a shadow root, and what its
// controls do. Config text is only ever set as text; links pass isSafeUrl.
import type { Prompt, PromptContext } from '../types';
import { arr } from '../util/arr';
import { el, shadow } from '../util/dom';
import { isSafeUrl } from '../util/url';
import { CSS } from './css';
import { displayMode, promptContent, type PromptState } from './pick';

/** Close to the server's rule (zod's email); the server has the last word. */
export const validEmail = (v: string): boolean => v.length < 255 && /^[\w.'+-]+@([\w-]+\.)+[a-z]{2,}$/i.test(v);

/** Adds `returnTo=<encoded ret>` to the query (before any #fragment), whether or not there is one. */
export function withReturn(url: string, ret: string): string {
  const i = (url + '#').indexOf('#');
  const b = url.slice(0, i);
  return b + (/[?&]$/.test(b) ? '' : b.includes('?') ? '&' : '?') + 'returnTo=' + encodeURIComponent(ret) + url.slice(i);
}

/** Shows `p`, already claimed for this visit, and records what the visitor does with it in kv under `key`. */
export function showPrompt(ctx: PromptContext, p: Prompt, key: string): void {
  const { doc, emit, kv } = ctx;
  const id = p.id;
  const { content: c, variant } = promptContent(p, ctx.touch);
  const mode = displayMode(p, ctx.device);
  const popin = mode == 'popin';
  const ev = { prompt: id, variant, device: ctx.device };
  let sent: unknown;
  const mark = (k: 'done' | 'dismissed', extra?: PromptState) =>
    kv.update<PromptState>(key, (s = {}) => ({ ...s, ...extra, [k]: { ...s[k], [id]: Date.now() } })).catch(() => 0);
  const done = (extra?: PromptState) => (emit('prompt_submitted', ev), (sent = mark('done', extra)));

  const [host, root] = shadow(doc, 'div', CSS);
  host.dataset.cairnPrompt = mode;
  const box = el(root, popin ? 'dialog' : 'section', null, { class: 'b', 'aria-labelledby': 't' }) as HTMLDialogElement;
  if (c.locale) box.lang = c.locale;
  // The × is drawn by CSS, so the button's name is its label alone (no label/content mismatch).
  const x = el(box, 'button', null, { class: 'x', 'aria-label': c.dismiss || 'Close' });
  const prev = doc.activeElement as HTMLElement | null;
  // Runs once: Esc fires `cancel` then `close`, and close() may fire `close` again. Closing after
  // a submit is not a dismissal.
  // Esc fires `cancel` then `close` (only `close` without user activation): either ends it.
  x.onclick = box.oncancel = box.onclose = () => {
    if (!host.isConnected) return;
    host.remove();
    box.close?.();
    if (popin) prev?.focus?.();
    sent || (emit('prompt_dismissed', ev), mark('dismissed'));
  };
  el(box, 'h2', c.title, { id: 't' });
  if (c.body) el(box, 'p', c.body);

  if (p.kind == 'optin') {
    const f = el(box, 'form');
    el(f, 'label', 'Email', { for: 'e' });
    const inp = el(f, 'input', null, { id: 'e', type: 'email', autocomplete: 'email', required: '', placeholder: c.placeholder || '', 'aria-describedby': 'c' });
    const btn = el(f, 'button', c.cta, { class: 'a' });
    el(f, 'p', c.consent, { id: 'c' });
    const st = el(box, 'p', null, { role: 'status' });
    const say = (state: string, text = c.error || 'Please try again.') => {
      st.dataset.state = state;
      st.textContent = text;
    };
    f.onsubmit = async (e) => {
      e.preventDefault();
      // Disabled while pending and after success, so a double submit sends nothing twice.
      if (btn.disabled) return;
      const email = inp.value.trim();
      const ok = validEmail(email);
      inp.setAttribute('aria-invalid', String(!ok));
      if (!ok) return say('invalid'), inp.focus();
      btn.disabled = true;
      say('pending', '');
      try {
        // The consent proof is the text the visitor saw next to the field.
        await ctx.submitOptin({ email, consentText: c.consent || c.title, promptId: id });
        await done({ optedIn: true });
        emit('optin', { prompt: id, email });
        // The storefront's own handler must not break the success state.
        (async () => ctx.onOptin?.({ email, promptId: id }))().catch(() => 0);
        f.hidden = true;
        say('ok', c.success || 'Thank you!');
        x.focus();
      } catch {
        btn.disabled = false;
        say('error');
      }
    };
  } else {
    const row = el(box, 'div');
    const link = (url: unknown, text: unknown, cls: string) => {
      if (isSafeUrl(url)) el(row, 'a', text, { class: cls, href: withReturn(url, ctx.returnUrl) }).onclick = () => done();
    };
    link(c.loginUrl, c.cta, 'a');
    for (const pr of arr<{ url?: string; name?: string }>(c.providers)) link(pr?.url, pr?.name, '');
  }

  if (popin) {
    doc.body.appendChild(host);
    // showModal makes the rest of the page inert; without it, at least show the dialog.
    if (box.showModal) box.showModal();
    else box.open = true;
    (box.querySelector<HTMLElement>('input,a') || x).focus();
  } else {
    let at: Element | null | '' | undefined;
    try {
      at = p.inlineAnchor && doc.querySelector(p.inlineAnchor);
    } catch {
      /* an invalid selector falls back to the defaults */
    }
    (at || doc.querySelector('[data-cairn-inline]') || doc.querySelector('main') || doc.body).appendChild(host);
  }
  emit('prompt_shown', ev);
}
