// The demo shop's catalogue: two categories, six linen products and three guides.
// Plain data, so the pages, the client-side "Recently viewed" block and the tests share it.

/** @typedef {{ sku: string, name: string, category: string, price: number, color: string, shade: string, blurb: string, details: string[] }} Product */

export const CATEGORIES = [
  {
    slug: 'bedding',
    name: 'Bedding',
    intro: 'Stonewashed European flax that softens with every wash and sleeps cool all summer.',
  },
  {
    slug: 'table',
    name: 'Table linen',
    intro: 'Napkins, cloths and runners woven for everyday meals and long Sunday lunches.',
  },
];

/** @type {Product[]} */
export const PRODUCTS = [
  {
    sku: 'SHEET-OAT',
    name: 'Stonewashed sheet set',
    category: 'bedding',
    price: 149,
    color: '#d9c7a7',
    shade: 'Oat',
    blurb: 'A fitted sheet, a flat sheet and two pillowcases in relaxed, pre-washed linen.',
    details: ['100% European flax, 165 g/m²', 'Stonewashed for softness', 'Deep-pocket fitted sheet'],
  },
  {
    sku: 'DUVET-SAGE',
    name: 'Linen duvet cover',
    category: 'bedding',
    price: 179,
    color: '#a9b59a',
    shade: 'Sage',
    blurb: 'Breathable in summer, warm in winter, with hidden coconut-shell buttons.',
    details: ['100% European flax, 165 g/m²', 'Coconut-shell buttons', 'Inner corner ties'],
  },
  {
    sku: 'PILLOW-CHALK',
    name: 'Pillowcases, pair',
    category: 'bedding',
    price: 49,
    color: '#efebe3',
    shade: 'Chalk',
    blurb: 'An envelope closure and a soft, slubby hand: the easiest upgrade to a bed.',
    details: ['100% European flax', 'Envelope closure', 'Sold as a pair'],
  },
  {
    sku: 'NAPKIN-TERRA',
    name: 'Napkins, set of four',
    category: 'table',
    price: 32,
    color: '#c0714f',
    shade: 'Terracotta',
    blurb: 'Generous 45 cm napkins with mitred corners, for every day and every guest.',
    details: ['100% linen, 190 g/m²', 'Mitred corners', '45 × 45 cm'],
  },
  {
    sku: 'CLOTH-NATURAL',
    name: 'Tablecloth',
    category: 'table',
    price: 89,
    color: '#c9b38f',
    shade: 'Natural',
    blurb: 'Undyed flax in its own colour, heavy enough to drape well and wash for decades.',
    details: ['100% undyed linen, 220 g/m²', 'Machine washable at 40 °C', '150 × 250 cm'],
  },
  {
    sku: 'RUNNER-CHARCOAL',
    name: 'Table runner',
    category: 'table',
    price: 39,
    color: '#4b4a48',
    shade: 'Charcoal',
    blurb: 'A strip of deep charcoal linen that makes a plain table look set.',
    details: ['100% linen, 190 g/m²', 'Hemstitched edges', '40 × 200 cm'],
  },
];

export const GUIDES = [
  {
    slug: 'care',
    title: 'How to care for linen',
    lead: 'Linen is tough. Wash it often, dry it gently and it gets better for years.',
    sections: [
      [
        'Washing',
        'Machine wash at 40 °C with a mild detergent. Skip bleach and fabric softener: they weaken the fibres.',
      ],
      ['Drying', 'Line dry, or tumble dry on low and take it out while still slightly damp.'],
      ['Ironing', 'Optional. If you like a crisp look, iron on the reverse while damp.'],
    ],
  },
  {
    slug: 'styling',
    title: 'The free styling guide',
    lead: 'Three ways to make a bed look like the picture, in under five minutes.',
    sections: [
      ['Layer neutrals', 'Start with chalk sheets, add an oat duvet, finish with one sage accent.'],
      ['Leave it rumpled', 'Linen is meant to look lived in. Shake the duvet out and let it fall.'],
      ['Mix the weights', 'A heavier throw at the foot of the bed adds depth to light bedding.'],
    ],
  },
  {
    slug: 'buying',
    title: 'The linen buying guide',
    lead: 'What the numbers on a label mean, and what is worth paying for.',
    sections: [
      ['Weight (g/m²)', 'Around 160 g/m² for bedding that breathes; 190 g/m² and more for table linen that drapes.'],
      ['Origin of the flax', 'European flax has long fibres that pill less and last longer.'],
      ['Finish', 'Stonewashed linen is soft from day one; untreated linen softens over many washes.'],
    ],
  },
];

export const productBySku = (sku) => PRODUCTS.find((p) => p.sku === sku);
export const categoryBySlug = (slug) => CATEGORIES.find((c) => c.slug === slug);
export const guideBySlug = (slug) => GUIDES.find((g) => g.slug === slug);
export const price = (n) => `€${n.toFixed(2)}`;
