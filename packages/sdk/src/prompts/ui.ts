// The prompt's DOM: a modal <dialog> pop-in, or an in-flow block, in a shadow root, and what its
// controls do. Config text is only ever set as text; links pass isSafeUrl.
import type { Prompt, PromptContext } from '../types.js';
import { arr } from '../util/arr.js';
import { el, shadow } from '../util/dom.js';
import { isSafeUrl } from '../util/url.js';
import { CSS } from './css.js';
import { displayMode, promptContent, type PromptState } from './pick.js';

/** Close to the server's rule (zod's email); the server has the last word. */
export const validEmail = (v: string): boolean => v.length < 255 && /^[\w.'+-]+@([\w-]+\.)+[a-z]{2,}$/i.test(v);

/** Said by the field when the address will not do (there is no config text for it). */
const INVALID = 'Enter a valid email address.';

/** Adds `returnTo=<encoded ret>` to the query, before any #fragment, whether or not there is a query. */
export const withReturn = (url: string, ret: string): string =>
  url.replace(
    /[?&]?(?=#|$)/,
    (m, i: number) => (m || (url.slice(0, i).includes('?') ? '&' : '?')) + 'returnTo=' + encodeURIComponent(ret),
  );

/**
 * Shows `p`, already claimed for this visit, and records what the visitor does with it in kv under
 * `key`. `uncounted` (no consent, for the holdouts): no `prompt_shown`, the exposure event.
 */
export function showPrompt(ctx: PromptContext, p: Prompt, key: string, uncounted?: boolean): void {
  const { doc, emit, device } = ctx;
  const id = p.id;
  const { content: c, variant } = promptContent(p, ctx.touch);
  const popin = displayMode(p, device) == 'popin';
  const ev = { prompt: id, variant, device };
  let sent: unknown;
  /** Remembers that the visitor submitted (`done`) or dismissed it, now. */
  const mark = (k: 'done' | 'dismissed', extra?: PromptState) =>
    ctx.kv.update<PromptState>(key, (s) => ({ ...s, ...extra, [k]: { ...s?.[k], [id]: Date.now() } })).catch(() => 0);
  const done = (extra?: PromptState) => (emit('prompt_submitted', ev), (sent = mark('done', extra)));

  const [host, root] = shadow(doc, 'div', CSS);
  host.dataset.cairnPrompt = popin ? 'popin' : 'inline';
  const box = el(root, popin ? 'dialog' : 'section', null, { class: 'b', 'aria-labelledby': 't' }) as HTMLDialogElement;
  if (c.locale) box.lang = c.locale;
  // The × is drawn by CSS, so the button's name is its label alone (no label/content mismatch).
  // "No thanks", floated beside it, says the same in words: both dismiss.
  const x = el(box, 'button', null, { class: 'x', 'aria-label': 'Close' });
  const no = el(box, 'button', c.dismiss || 'No thanks', { class: 'n' });
  const prev = doc.activeElement as HTMLElement | null;
  // Esc fires `cancel` then `close` (only `close` without user activation): whichever comes first
  // ends it. Removing the dialog takes it out of the top layer, which makes the page live again.
  // Closing after a submit is not a dismissal.
  x.onclick =
    no.onclick =
    box.oncancel =
    box.onclose =
      () => {
        if (host.isConnected) {
          host.remove();
          if (popin) prev?.focus();
          sent || (emit('prompt_dismissed', ev), mark('dismissed'));
        }
      };
  el(box, 'h2', c.title, { id: 't' });
  if (c.body) el(box, 'p', c.body);

  if (p.kind == 'optin') {
    // Our own check and message rather than the browser's bubble: one accessible path for all.
    const f = el(box, 'form', null, { novalidate: '' });
    el(f, 'label', 'Email', { for: 'e' });
    const inp = el(f, 'input', null, {
      id: 'e',
      type: 'email',
      autocomplete: 'email',
      required: '',
      placeholder: c.placeholder || '',
      'aria-describedby': 'c m',
    });
    // Live regions from the start, so what goes in is announced: errors at once, by the field;
    // success politely, outside the form it replaces.
    const alert = el(f, 'p', null, { role: 'alert', id: 'm' });
    const btn = el(f, 'button', c.cta, { class: 'a' });
    el(f, 'p', c.consent, { id: 'c' });
    const status = el(box, 'p', null, { role: 'status' });
    /** Says `text` by the field; `bad`: the address is what is wrong. */
    const say = (text: string, bad?: boolean) => {
      alert.textContent = text;
      inp.setAttribute('aria-invalid', !!bad + '');
      if (bad) inp.focus();
    };
    f.onsubmit = async (e) => {
      e.preventDefault();
      // Disabled while pending, and gone after success, so a double submit sends nothing twice.
      if (btn.disabled) return;
      const email = inp.value.trim();
      if (!validEmail(email)) return say(INVALID, true);
      btn.disabled = true;
      say('');
      try {
        // The consent proof is the text the visitor saw next to the field.
        await ctx.submitOptin({ email, consentText: c.consent || c.title, promptId: id });
        await done({ optedIn: true });
        // `cairn.on('optin', …)` hands the address to the storefront, e.g. for its email tool.
        emit('optin', { prompt: id, email });
        // The form gives way to the thanks; focus goes to what is left to do: close.
        f.remove();
        no.remove();
        status.textContent = c.success || 'Thank you!';
        x.focus();
      } catch (err) {
        btn.disabled = false;
        // A 400 is the server refusing the address (its check is stricter than ours); the failure
        // text is for the rest: the network, the server.
        const bad = (err as { status?: number } | null)?.status == 400;
        say(bad ? INVALID : c.error || 'Please try again.', bad);
      }
    };
  } else {
    const row = el(box, 'div');
    const link = (url: unknown, text: unknown, cls = '') => {
      if (isSafeUrl(url))
        el(row, 'a', text, { class: cls, href: withReturn(url, ctx.returnUrl) }).onclick = () => done();
    };
    link(c.loginUrl, c.cta, 'a');
    for (const pr of arr<{ url?: string; name?: string }>(c.providers)) link(pr?.url, pr?.name);
  }

  if (popin) {
    doc.body.appendChild(host);
    // Modal: the rest of the page is inert until it closes.
    box.showModal();
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
  uncounted || emit('prompt_shown', ev);
}
