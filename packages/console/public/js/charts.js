// Chart.js (the UMD build, loaded as a classic script from vendor/) behind one small helper.

const PALETTE = [
  '#2d6a4f',
  '#3a86ff',
  '#f4a261',
  '#e76f51',
  '#8e7dbe',
  '#2a9d8f',
  '#e9c46a',
  '#577590',
  '#bc4749',
  '#6c757d',
];
export const color = (i) => PALETTE[i % PALETTE.length];

const quiet = matchMedia('(prefers-reduced-motion: reduce)').matches;

/** Draws (or redraws) the chart on canvas `id`. Resolves to the Chart instance, or null without Chart.js. */
export function draw(id, config) {
  const Chart = /** @type {any} */ (window).Chart;
  const canvas = document.getElementById(id);
  if (!Chart || !canvas) return null;
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    ...config,
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: quiet ? false : { duration: 300 },
      ...config.options,
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } }, ...config.options?.plugins },
    },
  });
}

/** Y axis options for a percentage scale (data given as fractions). */
export const percentAxis = (extra = {}) => ({
  beginAtZero: true,
  ticks: { callback: (v) => `${Math.round(v * 1000) / 10}%` },
  ...extra,
});
