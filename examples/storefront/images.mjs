// Product and category pictures, drawn as small SVGs from each product's colour, so the demo ships no binaries.
import { PRODUCTS } from './catalog.mjs';

/** Darkens (amount < 0) or lightens a #rrggbb colour. */
function shade(hex, amount) {
  const n = parseInt(hex.slice(1), 16);
  const ch = (v) => Math.max(0, Math.min(255, Math.round(v + amount * 255)));
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(ch);
  return `#${((r << 16) | (g << 8) | b).toString(16).padStart(6, '0')}`;
}

/** A stack of folded linen in one colour, on a warm background. */
export function productSvg(color) {
  const dark = shade(color, -0.12);
  const light = shade(color, 0.08);
  const folds = [0, 1, 2]
    .map((i) => {
      const y = 300 - i * 62;
      return `<rect x="150" y="${y}" width="340" height="58" rx="14" fill="${i % 2 ? light : color}"/><path d="M160 ${y + 40}h320" stroke="${dark}" stroke-width="3" stroke-dasharray="2 7" opacity=".6"/>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 480"><rect width="640" height="480" fill="#f3eee6"/><ellipse cx="320" cy="372" rx="210" ry="18" fill="#000" opacity=".08"/>${folds}<path d="M430 176c20 4 40 20 44 40" stroke="${dark}" stroke-width="4" fill="none" stroke-linecap="round" opacity=".5"/></svg>`;
}

/** A category banner: the category's products as swatches. */
export function categorySvg(slug) {
  const colors = PRODUCTS.filter((p) => p.category === slug).map((p) => p.color);
  const sw = colors
    .map((c, i) => `<rect x="${70 + i * 120}" y="${60 + (i % 2) * 20}" width="100" height="120" rx="12" fill="${c}"/>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 240"><rect width="480" height="240" fill="#ece5d8"/>${sw}</svg>`;
}
