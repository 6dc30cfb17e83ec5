import type { Touches } from '../types';
import type { Miss } from './match';

// `?cairn_debug=1`: a small closable panel for marketers, in a shadow root so the page's CSS does
// not reach it. Every string (UTMs are attacker-controlled) goes in as textContent.

export function showDebug(doc: Document, touches: Touches, variant: string, misses: Miss[]): Element {
  const host = doc.createElement('cairn-debug');
  const root = host.attachShadow({ mode: 'open' });
  const add = (text: string, tag = 'div') => ((root.appendChild(doc.createElement(tag)).textContent = text), root.lastChild as HTMLElement);
  try {
    const s = new CSSStyleSheet();
    s.replaceSync(':host{position:fixed;right:0;bottom:0;z-index:99999;max-width:30em;font:12px monospace;background:#ffd;color:#000;padding:6px}');
    root.adoptedStyleSheets = [s];
  } catch {}
  add('x', 'button').onclick = () => host.remove();
  add('Cairn', 'b');
  for (const k of ['current', 'first', 'last'] as const) {
    const t = touches?.[k];
    add(k + ': ' + (t ? [t.channel, t.source, t.medium, t.campaign, t.content].filter(Boolean).join(' / ') : 'none'));
  }
  add('variant: ' + variant);
  for (const m of misses) add(`- ${m.id}: ${m.reason}`);
  return (doc.body || doc.documentElement).appendChild(host);
}
