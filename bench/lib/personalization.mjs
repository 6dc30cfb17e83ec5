// Section 3: time to personalized content, from the probes' slot record (lib/probes.mjs): ms from
// navigation start to the first animation frame in which the hero slot is visible with the variant's
// text, and whether any other text was ever visible in it.
import { CHANGE } from './site.mjs';
import { THROTTLE, interleaved } from './browser.mjs';
import { probedLoad } from './probes.mjs';
import { table } from './report.mjs';
import { fmtSpread, summary, ratio } from './stats.mjs';

const LABELS = {
  cairn: 'Cairn (sdk.js from the sync server, config embedded)',
  gb: 'GrowthBook auto, render-blocking, anti-flicker, features from a local endpoint',
  'gb-inline': 'GrowthBook auto, render-blocking, anti-flicker, payload inline',
  'gb-noaf': 'GrowthBook auto, async (its documented snippet), no anti-flicker, features from a local endpoint',
};

export async function personalizationSection(browser, env, { loads = 10, warmup = true } = {}) {
  const kinds = ['cairn', 'gb', 'gb-inline', 'gb-noaf'];
  const raw = await interleaved(
    kinds,
    loads,
    (kind) => probedLoad(browser, env.sites[kind].url + '/' + CHANGE.query, { watchSlot: true }),
    { warmup },
  );
  const runs = Object.fromEntries(
    kinds.map((k) => [k, raw[k].map((x) => ({ ...x.slot, fcp: x.fcp, errors: x.errors }))]),
  );

  const s = Object.fromEntries(
    kinds.map((k) => {
      const r = runs[k];
      const shown = r.filter((x) => x.shownAt !== null);
      return [
        k,
        {
          n: r.length,
          shownN: shown.length,
          shown: summary(shown.map((x) => x.shownAt)),
          fcp: summary(r.map((x) => x.fcp ?? NaN)),
          painted: r.filter((x) => x.painted).length,
          paintedText: r.find((x) => x.painted)?.painted?.text,
          errors: [...new Set(r.flatMap((x) => x.errors))],
        },
      ];
    }),
  );
  const rows = kinds.map((k) => [
    LABELS[k],
    s[k].n,
    `${s[k].shownN}/${s[k].n}`,
    fmtSpread(s[k].shown, 0),
    k === 'cairn' ? '1.0×' : ratio(s[k].shown.median, s.cairn.shown.median),
    fmtSpread(s[k].fcp, 0),
    s[k].painted ? `yes, in ${s[k].painted}/${s[k].n} loads` : 'never',
    s[k].errors.length ? s[k].errors.join('; ').slice(0, 200) : 'none',
  ]);
  const body = [
    `Chromium, ${THROTTLE}× CPU throttling, ${loads} first visits per page to \`/${CHANGE.query}\`, interleaved${warmup ? ', after one warm-up load per page' : ''}. ` +
      `"Shown" is ms from navigation start to the first animation frame in which the hero slot is visible with the variant's text ("${CHANGE.text}"), median (p25–p75); ` +
      '"default painted" means some other text was visible in the slot on at least one frame (the slot, or an ancestor, is not hidden by opacity or visibility).',
    '',
    table(
      [
        'page',
        'loads',
        'variant shown',
        'shown at (ms)',
        'vs Cairn',
        'first contentful paint (ms)',
        'default painted',
        'page errors',
      ],
      rows,
    ),
    ...(Object.values(s).some((x) => x.paintedText)
      ? ['', `Default text seen: "${Object.values(s).find((x) => x.paintedText).paintedText}".`]
      : []),
  ].join('\n');
  return {
    title: '3. Time to personalized content',
    body,
    headline: Object.fromEntries(kinds.map((k) => [k, { shown: s[k].shown.median, painted: s[k].painted, n: s[k].n }])),
  };
}
