// Section 2: main-thread cost in Chromium with 4× CPU throttling. Each load is a first visit to the
// demo home page from a Pinterest link, so that Cairn and GrowthBook both apply their change.
// Metrics cover the navigation, the load event and a fixed settle window after it, the same for every
// page, long enough for GrowthBook's features fetch and Cairn's start-up writes to settle.
import { CHANGE } from './site.mjs';
import { THROTTLE, interleaved } from './browser.mjs';
import { probedLoad } from './probes.mjs';
import { table } from './report.mjs';
import { fmt, fmtSpread, summary, ratio } from './stats.mjs';

const SETTLE_MS = 1500;

const LABELS = { none: '(a) no script', cairn: '(b) Cairn', gb: '(c) GrowthBook auto, render-blocking, anti-flicker' };

/** @param {import('@playwright/test').Browser} browser @param {Awaited<ReturnType<import('./site.mjs').startSites>>} env */
export async function mainThreadSection(browser, env, { loads = 20 } = {}) {
  const kinds = ['none', 'cairn', 'gb'];
  const runs = await interleaved(kinds, loads, (kind) =>
    probedLoad(browser, env.sites[kind].url + '/' + CHANGE.query, { watchSlot: false, afterLoadMs: SETTLE_MS }),
  );

  const s = Object.fromEntries(
    kinds.map((k) => {
      const r = runs[k];
      return [k, {
        script: summary(r.map((x) => x.script)),
        task: summary(r.map((x) => x.task)),
        longCount: summary(r.map((x) => x.longCount)),
        longTotal: summary(r.map((x) => x.longTotal)),
        applied: r.filter((x) => x.applied).length,
        errors: [...new Set(r.flatMap((x) => x.errors))],
        n: r.length,
      }];
    }),
  );
  const added = (k, key) => s[k][key].median - s.none[key].median;
  const rows = kinds.map((k) => [
    LABELS[k],
    s[k].n,
    fmtSpread(s[k].script),
    k === 'none' ? '–' : fmt(added(k, 'script')),
    fmtSpread(s[k].task),
    k === 'none' ? '–' : fmt(added(k, 'task')),
    `${fmt(s[k].longCount.median, 0)} (${fmt(s[k].longCount.min, 0)}–${fmt(s[k].longCount.max, 0)})`,
    fmtSpread(s[k].longTotal, 0),
    k === 'none' ? '–' : `${s[k].applied}/${s[k].n}`,
    s[k].errors.length ? s[k].errors.join('; ').slice(0, 200) : 'none',
  ]);
  const addedRatio = (key) => (added('cairn', key) > 0 && added('gb', key) > 0 ? ratio(added('gb', key), added('cairn', key)) : '–');
  const body = [
    `Chromium, ${THROTTLE}× CPU throttling (CDP Emulation.setCPUThrottlingRate), ${loads} loads per page after one warm-up load, interleaved, each in a fresh context (a first visit). ` +
      "Cairn's sdk.js and its collect calls go to a local sync server; GrowthBook's file and features come from the page's origin. " +
      "Script time counts every script on the page, the shop's own included (its recently-viewed block asks Cairn for the history when Cairn is there). " +
      `URL: \`/${CHANGE.query}\`. Durations are from CDP Performance.getMetrics, from navigation to ${SETTLE_MS / 1000} s after the load event; ` +
      'cells are median (p25–p75) in ms, long tasks are median (min–max) count and median (p25–p75) total ms.',
    '',
    table(['page', 'loads', 'ScriptDuration', 'script over (a)', 'TaskDuration', 'task over (a)', 'long tasks', 'long-task ms', 'change applied', 'page errors'], rows),
    '',
    `Script time GrowthBook adds over the bare page, relative to what Cairn adds: ${addedRatio('script')} (ScriptDuration), ${addedRatio('task')} (TaskDuration).`,
  ].join('\n');
  return {
    title: '2. Main-thread cost',
    body,
    headline: { cairnScriptAdded: added('cairn', 'script'), gbScriptAdded: added('gb', 'script'), cairnTaskAdded: added('cairn', 'task'), gbTaskAdded: added('gb', 'task') },
  };
}
