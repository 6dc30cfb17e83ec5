import { guard } from '../errors.js';
import type { VariantContext } from '../types.js';
import { onReady } from '../util/dom.js';
import { globMatch } from '../util/glob.js';
import { matchVariant, traitsWhy } from './match.js';
import { HOLDOUT } from './holdout.js';
import { applySlots } from './slots.js';

/**
 * Decides the variant synchronously and applies it before first paint: slots already parsed right
 * away, later ones as the parser inserts them (a MutationObserver until DOMContentLoaded). Emits
 * `variant_applied` once the page is parsed, when at least one slot got the variant.
 *
 * Sticky for the visit: the variant kept is re-applied on later pages where its path matches;
 * elsewhere this page's own match applies. "None" is kept only when no variant could match on any
 * page, so landing on a product page does not cost the visitor the home page's variant.
 * A preview (`?cairn_variant=<id>`) overrides and is not kept. A change of the person's traits (a
 * login) clears what was kept (src/core/start-core.ts): the next page decides afresh. A variant
 * with `when.traits` never matches before the traits are on the device, so it never flashes: it
 * applies from the first page after they arrive (identify's answer, the profile pull).
 *
 * A visitor in the variant's holdout (src/variants/holdout.ts; never on a preview) keeps the
 * default content, and gets `variant_held` where the variant would have sent `variant_applied`.
 * Without consent (an arm of null) no one is held out and neither is sent: nothing is counted.
 */
export const startVariants: (ctx: VariantContext) => void = guard((ctx: VariantContext) => {
  const { touches, traits, device, url, doc, sticky } = ctx;
  const q = url.searchParams;
  const preview = q.get('cairn_variant');
  const path = url.pathname;
  const vs = ctx.config?.variants || [];
  const m = matchVariant(vs, { touches, device, path, preview, traits });
  let v = m.variant;
  let note = ' (preview)';
  if (v?.id !== preview) {
    note = '';
    const s = sticky.get();
    const kept = s && vs.find((x) => x?.id == s);
    if (s === null) v = null;
    else if (kept) {
      // Nor where the person's traits no longer match it (the device moved to a new one, say).
      const w = kept.when;
      if ((!w?.path || globMatch(w.path, path)) && !(w?.traits && traitsWhy(w.traits, traits)))
        (v = kept), (note = ' (sticky)');
    } else if (v) sticky.set(v.id);
    else if (!matchVariant(vs, { touches, device, traits }).variant) sticky.set(null);
  }
  const held =
    !!v && v.id !== preview && sticky._heldOut?.(v.id, v.holdout ?? ctx.config.measurement?.holdout ?? HOLDOUT);
  if (held) note += ' (held out)';
  // The panel itself is not render-blocking: the caller shows it (the script tag's deferred part).
  if (q.get('cairn_debug') == '1')
    onReady(doc, () =>
      ctx.debug?.(
        doc,
        touches,
        v ? v.id + note : 'none',
        m.misses.filter((x) => x.id != v?.id),
      ),
    );
  if (!v) return;
  const { id, slots } = v;
  const names = new Set<string>();
  const run = guard(() => applySlots(doc, slots, !!held).forEach((n) => names.add(n)));
  if (held)
    return onReady(doc, () => (run(), names.size && ctx.emit('variant_held', { variant: id, slots: [...names] })));
  run();
  // Its callbacks run as microtasks, before the next paint: a slot never shows its default content.
  // characterData too: Chromium's parser appends a slot's late text into the variant's text node.
  const mo = doc.readyState == 'loading' ? new MutationObserver(run) : null;
  mo?.observe(doc.documentElement, { childList: true, subtree: true, characterData: true });
  onReady(doc, () => {
    mo?.disconnect();
    run();
    // A marketer's preview is flagged, so the reports leave it out.
    if (names.size && held !== null)
      ctx.emit('variant_applied', { variant: id, slots: [...names], ...(id === preview && { preview: true }) });
  });
});
