import type { Touches } from '../types.js';
import { el, shadow } from '../util/dom.js';
import { KEYS, type Miss } from './match.js';

// `?cairn_debug=1`: a small closable panel for marketers, in a shadow root so the page's CSS does
// not reach it. Every string (UTMs are attacker-controlled) goes in as textContent. A condition the
// browser refused to run stands out (marked `!`, in red): the config needs fixing, not the visitor.

export function showDebug(doc: Document, touches: Touches, variant: string, misses: Miss[]): Element {
  const [host, root] = shadow(
    doc,
    'cairn-debug',
    ':host{position:fixed;right:0;bottom:0;z-index:99999;max-width:30em;font:12px monospace;background:#ffd;color:#000;padding:6px}.r{color:#b00;font-weight:bold}',
  );
  el(root, 'button', 'x').onclick = () => host.remove();
  el(root, 'b', 'Cairn');
  for (const k of ['current', 'first', 'last'] as const) {
    const t = touches?.[k];
    el(
      root,
      'div',
      k +
        ': ' +
        (t
          ? KEYS.map((k) => t[k])
              .filter(Boolean)
              .join(' / ')
          : 'none'),
    );
  }
  el(root, 'div', 'variant: ' + variant);
  for (const m of misses) el(root, 'div', `${m.refused ? '!' : '-'} ${m.id}: ${m.reason}`, m.refused && { class: 'r' });
  return doc.body.appendChild(host);
}
