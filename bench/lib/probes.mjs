// What every measured page load records, installed before any page script runs:
// - long tasks (PerformanceObserver 'longtask');
// - with `loaf`, long animation frames (over 50 ms) and the scripts the browser names in them;
// - the hero slot on every animation frame from the start of navigation: when it is first visible with
//   the variant's text (performance.now(), ms since navigation start), and whether any other text was
//   ever visible in it (the default content painted: a flicker).
// - with `trace`, a Chromium trace of the load, reduced to main-thread time by script (lib/trace.mjs).
// The slot watcher runs style work on every frame, so the main-thread section leaves it out.
import { CHANGE } from './site.mjs';
import { cdpMetrics, loadOnce } from './browser.mjs';
import { attributeTrace, startTrace } from './trace.mjs';

/** Runs in the page, before its scripts; must be self-contained (Playwright serializes it). */
function installProbes({ selector, want, watch, loaf }) {
  const lt = (window.__benchLongTasks = { count: 0, total: 0 });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        lt.count++;
        lt.total += e.duration;
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    lt.count = NaN;
  }
  if (loaf) {
    const frames = (window.__benchLoaf = []);
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          frames.push({
            ms: e.duration,
            blocking: e.blockingDuration,
            scripts: (e.scripts ?? []).map((s) => ({ url: s.sourceURL, ms: s.duration, invoker: s.invoker })),
          });
        }
      }).observe({ type: 'long-animation-frame', buffered: true });
    } catch {
      window.__benchLoaf = null;
    }
  }
  const r = (window.__benchSlot = { shownAt: null, textAt: null, slotAt: null, painted: null, frames: 0 });
  if (!watch) return;
  // Hidden by the slot's or an ancestor's opacity (anti-flicker) or visibility counts as not painted.
  const visible = (el) =>
    el.checkVisibility ? el.checkVisibility({ opacityProperty: true, visibilityProperty: true }) : true;
  const frame = () => {
    r.frames++;
    const el = document.querySelector(selector);
    if (el) {
      const now = performance.now();
      const text = (el.textContent ?? '').trim();
      if (r.slotAt === null) r.slotAt = now;
      if (text === want) {
        if (r.textAt === null) r.textAt = now;
        if (r.shownAt === null && visible(el)) r.shownAt = now;
      } else if (text && r.painted === null && visible(el)) {
        r.painted = { text: text.slice(0, 80), at: now };
      }
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

/**
 * One first visit to `url` with the probes. It waits `afterLoadMs` after the load event, and with
 * `watchSlot`, until the variant is shown (at most `maxWaitMs`) plus `afterShownMs`, to catch content
 * that flips back. With `trace` ({ owners, profileOf }, see lib/trace.mjs) the load is traced and
 * `trace` holds main-thread time by script; with `loaf`, `loaf` holds the long animation frames.
 */
export function probedLoad(
  browser,
  url,
  { watchSlot, afterLoadMs = 0, afterShownMs = 300, maxWaitMs = 6000, trace = null, loaf = false },
) {
  return loadOnce(browser, {
    url,
    init: installProbes,
    arg: { selector: CHANGE.selector, want: CHANGE.text, watch: watchSlot, loaf },
    prepare: trace ? (_page, cdp) => startTrace(cdp) : undefined,
    settle: async (page) => {
      const t = Date.now();
      if (watchSlot) {
        await page
          .waitForFunction(() => window.__benchSlot?.shownAt != null, null, { timeout: maxWaitMs, polling: 50 })
          .catch(() => {});
        await page.waitForTimeout(afterShownMs);
      }
      const left = afterLoadMs - (Date.now() - t);
      if (left > 0) await page.waitForTimeout(left);
    },
    collect: async (page, cdp, tracing) => {
      const m = await cdpMetrics(cdp);
      const p = await page.evaluate(
        (sel) => ({
          lt: window.__benchLongTasks,
          loaf: window.__benchLoaf ?? null,
          slot: window.__benchSlot,
          fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
          hero: document.querySelector(sel)?.textContent?.trim() ?? null,
        }),
        CHANGE.selector,
      );
      return {
        script: m.ScriptDuration * 1000,
        task: m.TaskDuration * 1000,
        longCount: p.lt.count,
        longTotal: p.lt.total,
        applied: p.hero === CHANGE.text,
        slot: p.slot,
        fcp: p.fcp,
        loaf: p.loaf,
        ...(tracing ? await traced(tracing, page.url(), trace) : { trace: null }),
      };
    },
  });
}

/** The load's trace reduced to time by script; a trace that cannot be read is reported, not counted. */
async function traced(tracing, pageUrl, o) {
  try {
    return { trace: attributeTrace(await tracing.stop(), { pageUrl, ...o }), traceError: null };
  } catch (e) {
    return { trace: null, traceError: String(e?.message ?? e) };
  }
}
