// The reports: fetched once per range (the three models at once, so they can be compared), drawn
// again from memory when the model or the compared metric changes.
import { api, problem } from './api.js';
import { color, draw, percentAxis } from './charts.js';
import { $, el } from './dom.js';
import { count, money, rate } from './format.js';
import { renderLift } from './lift.js';

export const MODELS = ['first', 'last', 'linear'];
const MODEL_NAMES = { first: 'first touch', last: 'last non-direct touch', linear: 'linear' };
/** Every channel group that has visitors: GA4 has 19, a shop sees a dozen at most. */
const TOP = 19;

/** Resolves to `{ channels: { first, last, linear }, experiments }`; rejects with a readable message. */
export async function fetchReports({ site, from, to, mde }) {
  const q = (extra) => new URLSearchParams({ site, from, to, ...extra }).toString();
  const answers = await Promise.all([
    ...MODELS.map((model) => api(`/v1/reports/channels?${q({ model })}`)),
    fetchExperiments({ site, from, to, mde }, true),
  ]);
  const bad = answers.find((r) => !r.ok);
  if (bad) throw new Error(problem(bad));
  const [first, last, linear, experiments] = answers.map((r) => r.body);
  return { channels: { first, last, linear }, experiments };
}

/**
 * The experiments report for a minimum detectable effect (`mde`, a fraction). With `raw`, the API's
 * answer as it is; else the report, or a rejection with a readable message.
 */
export async function fetchExperiments({ site, from, to, mde }, raw = false) {
  const r = await api(`/v1/reports/experiments?${new URLSearchParams({ site, from, to, mde: String(mde) })}`);
  if (raw) return r;
  if (!r.ok) throw new Error(problem(r));
  return r.body;
}

/** Draws everything for `model`; `names` maps variant ids to their names in the config. */
export function renderReports(data, { model, metric, names = new Map() }) {
  const r = data.channels[model];
  $('funnel-model').textContent = `— ${MODEL_NAMES[model]}`;
  kpis(r);
  const top = r.channels.slice(0, TOP);
  const labels = top.map((c) => c.channel);
  /** @type {[string, string][]} */
  const steps = [
    ['Opt-ins', 'optin'],
    ['Identified', 'identified'],
    ['Purchasers', 'purchase'],
    ['Repeat purchasers', 'repeat'],
  ];
  draw('funnel-chart', {
    type: 'bar',
    data: {
      labels,
      datasets: steps.map(([label, k], i) => ({
        label,
        data: top.map((c) => c.visitorRates[k] ?? 0),
        backgroundColor: color(i),
      })),
    },
    options: {
      scales: { y: percentAxis() },
      plugins: { tooltip: { callbacks: { label: (x) => `${x.dataset.label}: ${rate(x.raw)}` } } },
    },
  });
  draw('value-chart', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'Visitors', data: top.map((c) => c.visitors), backgroundColor: color(1), yAxisID: 'y' },
        {
          type: 'line',
          label: `Revenue / 1,000 visitors (${r.currency ?? '–'})`,
          data: top.map((c) => c.revenuePer1000 ?? 0),
          borderColor: color(3),
          backgroundColor: color(3),
          yAxisID: 'y1',
        },
      ],
    },
    options: {
      scales: {
        y: { beginAtZero: true, position: 'left' },
        y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } },
      },
    },
  });
  renderModels(data, metric);
  draw('journeys-chart', {
    type: 'bar',
    data: {
      labels: r.journeys.map((j) => `${j.touches} touch${j.touches === 1 ? '' : 'es'}`),
      datasets: [{ label: 'Orders', data: r.journeys.map((j) => j.orders), backgroundColor: color(4) }],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  channelTable(r);
  const others = r.otherCurrencies.map((o) => `${count(o.orders)} in ${o.currency} (${money(o.revenue, o.currency)})`);
  $('other-currencies').textContent = others.length
    ? `Revenue counts ${r.currency} orders only. Also: ${others.join(', ')}.`
    : '';
  $('order-checks').textContent = orderChecks(r.orderChecks);
  experiments(data.experiments, names);
}

/** What the report left out of the orders, in words; empty when nothing was. */
export function orderChecks(checks) {
  if (!checks) return '';
  const parts = [];
  if (checks.confirmationRequired)
    parts.push(
      checks.unconfirmed
        ? `Only orders confirmed by the shop count: ${count(checks.unconfirmed)} unconfirmed left out.`
        : 'Only orders confirmed by the shop count.',
    );
  if (checks.conflictingClaims)
    parts.push(
      `${count(checks.conflictingClaims)} purchase report${checks.conflictingClaims === 1 ? '' : 's'} named an order someone else reported first: ignored.`,
    );
  return parts.join(' ');
}

/** The three models side by side for one metric, channels ordered by last-touch visitors. */
export function renderModels(data, metric) {
  const labels = [...new Set(MODELS.flatMap((m) => data.channels[m].channels.map((c) => c.channel)))];
  const visitors = (ch) => data.channels.last.channels.find((c) => c.channel === ch)?.visitors ?? 0;
  labels.sort((a, b) => visitors(b) - visitors(a));
  const shown = labels.slice(0, TOP);
  draw('models-chart', {
    type: 'bar',
    data: {
      labels: shown,
      datasets: MODELS.map((m, i) => ({
        label: MODEL_NAMES[m],
        data: shown.map((ch) => data.channels[m].channels.find((c) => c.channel === ch)?.[metric] ?? 0),
        backgroundColor: color(i + 5),
      })),
    },
    options: { scales: { y: { beginAtZero: true } } },
  });
}

function kpis(r) {
  const t = r.totals;
  const box = (value, label) => el('div', { class: 'kpi' }, el('b', {}, value), el('span', {}, label));
  $('kpis').replaceChildren(
    box(count(t.visitors), 'visitors'),
    box(rate(t.visitorRates.optin), 'opted in'),
    box(rate(t.visitorRates.identified), 'identified'),
    box(rate(t.visitorRates.purchase), 'purchased'),
    box(count(t.repeatPurchasers), 'repeat purchasers'),
    box(money(t.revenue, r.currency), 'revenue'),
    box(money(t.revenuePer1000, r.currency), 'revenue / 1,000 visitors'),
  );
}

function cells(row, currency) {
  // The share of visitors under each count; the rate over the step before in the tooltip (steps are not
  // nested: a guest checkout buys without an account).
  const withRate = (n, k) =>
    el(
      'td',
      { title: `${rate(row.stepRates[k])} of the step before` },
      count(n),
      el('span', { class: 'rate' }, `${rate(row.visitorRates[k])} of visitors`),
    );
  return [
    el('td', {}, count(row.visitors)),
    withRate(row.optins, 'optin'),
    withRate(row.identified, 'identified'),
    withRate(row.purchasers, 'purchase'),
    withRate(row.repeatPurchasers, 'repeat'),
    el('td', {}, count(row.orders)),
    el('td', {}, money(row.revenue, currency)),
    el('td', {}, money(row.revenuePer1000, currency)),
  ];
}

function channelTable(r) {
  const body = $('channel-table').tBodies[0];
  const rows = [];
  for (const c of r.channels) {
    const sources = c.sources.map((s) =>
      el('tr', { class: 'source', hidden: true }, el('td', {}, s.source), ...cells(s, r.currency)),
    );
    const toggle = el(
      'button',
      { type: 'button', class: 'toggle', 'aria-expanded': 'false', title: 'Show sources' },
      '▸',
    );
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? '▾' : '▸';
      for (const s of sources) s.hidden = !open;
    });
    rows.push(
      el(
        'tr',
        { class: 'channel' },
        el(
          'td',
          {},
          toggle,
          c.channel,
          el('span', { class: 'rate' }, `${c.sources.length} source${c.sources.length === 1 ? '' : 's'}`),
        ),
        ...cells(c, r.currency),
      ),
      ...sources,
    );
  }
  rows.push(el('tr', { class: 'total' }, el('td', {}, 'All channels'), ...cells(r.totals, r.currency)));
  if (!r.channels.length) rows.unshift(el('tr', {}, el('td', { colspan: 9 }, 'No visitors in this range.')));
  body.replaceChildren(...rows);
}

/** The variants' and prompts' sections: lift against holdout first, then the observed (not causal) rates. */
export function experiments(x, names) {
  renderLift(x.lift, names);
  const label = (v) => (v === null ? 'No variant (not a control group)' : names.get(v) ? `${names.get(v)} (${v})` : v);
  const variants = [...x.variants, x.baseline];
  draw('variants-chart', {
    type: 'bar',
    data: {
      labels: variants.map((v) => v.variant ?? 'no variant (not causal)'),
      datasets: [
        { label: 'Opt-in rate', data: variants.map((v) => v.optinRate ?? 0), backgroundColor: color(0) },
        { label: 'Purchase rate', data: variants.map((v) => v.purchaseRate ?? 0), backgroundColor: color(2) },
      ],
    },
    options: {
      scales: { y: percentAxis() },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${rate(c.raw)}` } } },
    },
  });
  $('variants-table').tBodies[0].replaceChildren(
    ...variants.map((v) =>
      el(
        'tr',
        {},
        el('td', {}, label(v.variant)),
        el('td', {}, count(v.visitors)),
        el('td', {}, rate(v.optinRate)),
        el('td', {}, rate(v.purchaseRate)),
      ),
    ),
  );

  const rows = x.prompts.flatMap((p) =>
    Object.entries(p.devices).map(([device, c]) => ({ prompt: p.prompt, device, c })),
  );
  draw('prompts-chart', {
    type: 'bar',
    data: {
      labels: rows.map((r) => `${r.prompt} · ${r.device}`),
      datasets: [
        { label: 'Shown', data: rows.map((r) => r.c.shown), backgroundColor: color(7) },
        { label: 'Dismissed', data: rows.map((r) => r.c.dismissed), backgroundColor: color(3) },
        { label: 'Submitted', data: rows.map((r) => r.c.submitted), backgroundColor: color(0) },
      ],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const body = $('prompts-table').tBodies[0];
  body.replaceChildren(
    ...rows.map((r) =>
      el(
        'tr',
        {},
        el('td', {}, r.prompt),
        el('td', {}, r.device),
        el('td', {}, count(r.c.shown)),
        el('td', {}, count(r.c.dismissed)),
        el('td', {}, count(r.c.submitted)),
        el('td', {}, count(r.c.optins)),
        el('td', {}, rate(r.c.submitRate)),
      ),
    ),
  );
  if (!rows.length) body.replaceChildren(el('tr', {}, el('td', { colspan: 7 }, 'No prompt shown in this range.')));
}
