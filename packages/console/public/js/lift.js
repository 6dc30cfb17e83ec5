// Lift against holdout, per variant and per prompt: a card each, with the answer in words, a chart
// of each metric's relative lift and its always-valid 95% interval, and the numbers in a table.
// Every id and name comes from the config or the events: they go in as text only (dom.js).
import { draw } from './charts.js';
import { $, el } from './dom.js';
import { count, money, rate } from './format.js';

/** The metrics in the order shown, with how to print a value and a difference. */
const METRICS = [
  { key: 'optinRate', name: 'Opt-in rate', kind: 'rate' },
  { key: 'identifiedRate', name: 'Account (identified) rate', kind: 'rate' },
  { key: 'purchaseRate', name: 'Purchase rate', kind: 'rate' },
  { key: 'revenuePerVisitor', name: 'Revenue per visitor', kind: 'money' },
];

/** The verdicts as the API says them, and the colour of their interval bar. */
const TONES = {
  better: { bar: 'rgba(6, 118, 71, 0.75)', tone: 'ok' },
  worse: { bar: 'rgba(180, 35, 24, 0.75)', tone: 'bad' },
  'no detectable difference': { bar: 'rgba(87, 117, 144, 0.6)', tone: 'same' },
  'not enough data yet': { bar: 'rgba(157, 164, 175, 0.45)', tone: 'wait' },
};
const toneOf = (verdict) => TONES[verdict] ?? TONES['not enough data yet'];

const signed = (text, n) => (n > 0 ? `+${text}` : text);
const percent = (r) => (r === null || r === undefined ? '–' : signed(rate(r), r));
/** An absolute difference: percentage points for a rate, money for revenue. */
function difference(n, kind, currency) {
  if (n === null || n === undefined) return '–';
  if (kind === 'money') return signed(money(n, currency), n);
  const points = Math.round(n * 1000) / 10;
  return `${points > 0 ? '+' : ''}${points} pts`;
}
const value = (n, kind, currency) => (kind === 'money' ? money(n, currency) : rate(n));
const interval = (i, show) => (i ? `${show(i.low)} to ${show(i.high)}` : 'no interval yet');

/** One metric's result in words: "Purchase rate: better, +2.1 pts (95% interval +0.4 pts to +3.8 pts)." */
export function sentence(name, c, kind, currency) {
  if (!c.absolute) return `${name}: ${c.verdict}.`;
  const d = (n) => difference(n, kind, currency);
  return `${name}: ${c.verdict}, ${d(c.absolute.estimate)} (95% interval ${interval(c.absolute, d)}).`;
}

function needed(c) {
  const n = c.neededPerArm;
  if (!n) return '–';
  return `${count(n.treatment)} / ${count(n.holdout)}`;
}

function chart(canvasId, row) {
  const shown = METRICS.filter((m) => row.metrics[m.key]?.relative);
  const lift = (m) => row.metrics[m.key].relative;
  // Early intervals can be very wide: the axis stops at −100% and +300%, and the tooltip has the rest.
  const lows = shown.map((m) => lift(m).low);
  const highs = shown.map((m) => lift(m).high);
  const min = Math.max(-1, Math.floor(Math.min(-0.1, ...lows) * 10) / 10);
  const max = Math.min(3, Math.ceil(Math.max(0.1, ...highs) * 10) / 10);
  draw(canvasId, {
    type: 'bar',
    data: {
      labels: shown.map((m) => m.name),
      datasets: [
        {
          label: '95% interval (always valid)',
          data: shown.map((m) => [lift(m).low, lift(m).high]),
          backgroundColor: shown.map((m) => toneOf(row.metrics[m.key].verdict).bar),
          borderSkipped: false,
          barPercentage: 0.5,
        },
        {
          type: 'line',
          label: 'Measured lift',
          data: shown.map((m) => lift(m).estimate),
          showLine: false,
          pointStyle: 'rectRot',
          pointRadius: 6,
          borderColor: '#1d2430',
          backgroundColor: '#1d2430',
        },
      ],
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: {
          min,
          max,
          ticks: { callback: (v) => percent(v) },
          // The zero line: an interval that crosses it has not shown a lift either way.
          grid: {
            color: (c) => (c.tick?.value === 0 ? '#1d2430' : '#dde1e7'),
            lineWidth: (c) => (c.tick?.value === 0 ? 2 : 1),
          },
        },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (x) => {
              const m = shown[x.dataIndex];
              const c = m && row.metrics[m.key];
              if (!c) return '';
              return x.datasetIndex === 0
                ? `${c.verdict}: ${percent(c.relative.low)} to ${percent(c.relative.high)}`
                : `Measured: ${percent(c.relative.estimate)}`;
            },
          },
        },
      },
    },
  });
  return shown.length;
}

/** One variant's or prompt's card. `label` is its display name (text). */
function card(row, { label, kind, currency, index, mde }) {
  const canvasId = `lift-chart-${kind}-${index}`;
  const rows = METRICS.map((m) => {
    const c = row.metrics[m.key];
    const tone = toneOf(c.verdict).tone;
    return el(
      'tr',
      { 'data-metric': m.key },
      el('th', { scope: 'row' }, m.name),
      el('td', {}, value(c.holdout, m.kind, currency)),
      el('td', {}, value(c.treatment, m.kind, currency)),
      el(
        'td',
        {},
        difference(c.absolute?.estimate, m.kind, currency),
        el(
          'span',
          { class: 'rate' },
          interval(c.absolute, (n) => difference(n, m.kind, currency)),
        ),
      ),
      el(
        'td',
        {},
        percent(c.relative?.estimate),
        el('span', { class: 'rate' }, c.holdout === 0 ? 'none: the holdout is at 0' : interval(c.relative, percent)),
      ),
      el('td', {}, el('span', { class: `verdict ${tone}` }, c.verdict)),
      el('td', {}, needed(c)),
    );
  });
  const answers = METRICS.map((m) =>
    el(
      'li',
      { class: toneOf(row.metrics[m.key].verdict).tone },
      sentence(m.name, row.metrics[m.key], m.kind, currency),
    ),
  );
  const node = el(
    'article',
    { class: 'lift-card', 'data-kind': kind },
    el('h3', {}, label),
    el(
      'p',
      { class: 'hint' },
      `${count(row.visitors.treatment)} ${kind === 'variant' ? 'got it' : 'saw it'}, ${count(row.visitors.holdout)} held out`,
      row.crossovers
        ? ` · ${count(row.crossovers)} exposed in both arms after signing in (counted in their first arm)`
        : '',
      '.',
    ),
    el('ul', { class: 'lift-answers' }, answers),
    el(
      'figure',
      { class: 'chart' },
      el(
        'figcaption',
        {},
        'Relative lift, treatment against holdout: the bar is the 95% interval (valid however often you look), the diamond the measured lift.',
      ),
      el(
        'div',
        { class: 'plot short' },
        el('canvas', { id: canvasId, role: 'img', 'aria-label': `Relative lift with intervals: ${label}` }),
      ),
    ),
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'lift-table' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...[
              'Metric',
              'Holdout',
              kind === 'variant' ? 'With the variant' : 'With the prompt',
              'Lift (95% interval)',
              'Relative lift',
              'Verdict',
              `People needed per arm for a ${rate(mde)} lift (treatment / holdout)`,
            ].map((h) => el('th', { scope: 'col' }, h)),
          ),
        ),
        el('tbody', {}, rows),
      ),
    ),
  );
  const undrawn = METRICS.filter((m) => !row.metrics[m.key]?.relative).map((m) => m.name);
  if (undrawn.length)
    node
      .querySelector('figure')
      ?.append(
        el('p', { class: 'hint' }, `Not drawn, with no relative interval yet: ${undrawn.join(', ')} (see the table).`),
      );
  return { node, draw: () => chart(canvasId, row) };
}

/**
 * Draws the lift report (`experiments.lift`) into #lift-variants and #lift-prompts.
 * `names` maps variant ids to their names in the config.
 */
export function renderLift(lift, names) {
  if (!lift) return;
  const currency = lift.currency;
  const label = (row, kind) =>
    kind === 'variant' && names.get(row.id)
      ? `${names.get(row.id)} (${row.id})`
      : `${kind === 'prompt' ? 'Prompt ' : ''}${row.id}`;
  for (const [kind, rows, box, none] of [
    ['variant', lift.variants, $('lift-variants'), 'No variant was shown or held out in this range.'],
    ['prompt', lift.prompts, $('lift-prompts'), 'No prompt was shown or held out in this range.'],
  ]) {
    const cards = rows.map((row, index) =>
      card(row, { label: label(row, kind), kind, currency, index, mde: lift.mde }),
    );
    box.replaceChildren(...(cards.length ? cards.map((c) => c.node) : [el('p', { class: 'hint' }, none)]));
    for (const c of cards) c.draw();
  }
}
