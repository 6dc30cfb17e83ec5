import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSafeUrl, siteConfigSchema, touchSchema, validateSiteConfig } from '../src/index.js';

const variant = (over: Record<string, unknown> = {}) => ({
  id: 'pin',
  name: 'Pinterest',
  when: { source: 'pinterest' },
  slots: { 'hero-title': { text: 'Styled by you' } },
  ...over,
});

describe('validateSiteConfig', () => {
  it('fills the documented defaults', () => {
    const r = validateSiteConfig({
      site: 'demo',
      variants: [variant()],
      prompts: [{ id: 'guide', kind: 'optin', content: { title: 'Get the guide', cta: 'Send it' } }],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.variants[0]?.priority).toBe(0);
    expect(r.config.variants[0]?.when.touch).toBe('current');
    const p = r.config.prompts[0]!;
    expect(p.trigger).toEqual({ afterPages: 3, scope: 'session' });
    expect(p.snoozeDays).toBe(7);
    expect(p.display).toEqual({ desktop: 'popin', mobile: 'inline' });
    expect(p.audience.identified).toBe(false);
    expect(p.audience.optedIn).toBe(false);
    expect(p.audience.excludePaths).toContain('/cart');
    expect(p.audience.excludePaths).toContain('/checkout');
    expect(r.config.consent).toEqual({ default: 'granted', respectGpc: true });
  });

  it.each([
    ['javascript: href', { slots: { cta: { href: 'javascript:alert(1)' } } }, 'variants.0.slots.cta.href'],
    ['data: src', { slots: { img: { src: 'data:text/html,<script>alert(1)</script>' } } }, 'variants.0.slots.img.src'],
    ['obfuscated scheme', { slots: { cta: { href: ' java\tscript:alert(1)' } } }, 'variants.0.slots.cta.href'],
    [
      'data: in srcset',
      { slots: { img: { srcset: '/a.jpg 1x, data:image/png;base64,AA 2x' } } },
      'variants.0.slots.img.srcset',
    ],
    ['raw html field', { slots: { t: { html: '<b>x</b>' } } }, 'variants.0.slots.t'],
    ['bad regex', { when: { source: '/(/i' } }, 'variants.0.when.source'],
    ['unknown channel', { when: { channel: 'Paid Searhc' } }, 'variants.0.when.channel'],
    ['empty slots', { slots: {} }, 'variants.0.slots'],
    ['path without slash', { when: { path: 'products/*' } }, 'variants.0.when.path'],
  ])('refuses %s and names the field', (_name, over, path) => {
    const r = validateSiteConfig({ site: 'demo', variants: [variant(over)] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toContain(path);
  });

  it('refuses duplicate ids', () => {
    const r = validateSiteConfig({ site: 'demo', variants: [variant(), variant()] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues).toContainEqual({ path: 'variants.1.id', message: 'duplicate id "pin"' });
  });

  it('accepts lists, regexes and GA4 channel names', () => {
    const r = validateSiteConfig({
      site: 'demo',
      variants: [
        variant({ when: { channel: ['Paid Social', 'Organic Social'], source: '/^(fb|facebook)$/i', touch: 'first' } }),
      ],
    });
    expect(r.ok).toBe(true);
  });

  it('keeps a mobile prompt inline: an overlay on mobile is not expressible', () => {
    const r = validateSiteConfig({
      site: 'demo',
      prompts: [{ id: 'p', kind: 'account', display: { mobile: 'popin' }, content: { title: 't', cta: 'c' } }],
    });
    expect(r.ok).toBe(false);
  });
});

describe('holdout', () => {
  const prompt = (over: Record<string, unknown> = {}) => ({
    id: 'guide',
    kind: 'optin',
    content: { title: 'Get the guide', cta: 'Send it' },
    ...over,
  });

  it('defaults to 0.1 site-wide; a variant or prompt may set its own from 0 to 0.5', () => {
    const r = validateSiteConfig({
      site: 'demo',
      variants: [variant(), variant({ id: 'off', holdout: 0 }), variant({ id: 'half', holdout: 0.5 })],
      prompts: [prompt({ holdout: 0.2 })],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.measurement).toEqual({ holdout: 0.1 });
    expect(r.config.variants.map((v) => v.holdout)).toEqual([undefined, 0, 0.5]);
    expect(r.config.prompts[0]?.holdout).toBe(0.2);
    const off = validateSiteConfig({ site: 'demo', measurement: { holdout: 0 } });
    expect(off.ok && off.config.measurement.holdout).toBe(0);
  });

  it.each([
    [
      { variants: [variant(), variant({ id: 'b' }), variant({ id: 'c', holdout: 0.6 })] },
      'variants.2.holdout',
      'must be at most 0.5',
    ],
    [{ variants: [variant({ holdout: -0.1 })] }, 'variants.0.holdout', 'must be at least 0'],
    [{ variants: [variant({ holdout: '0.2' })] }, 'variants.0.holdout', undefined],
    [{ prompts: [prompt({ holdout: 1 })] }, 'prompts.0.holdout', 'must be at most 0.5'],
    [{ measurement: { holdout: 0.75 } }, 'measurement.holdout', 'must be at most 0.5'],
    [{ measurement: { holdout: null } }, 'measurement.holdout', undefined],
    [{ measurement: { share: 0.1 } }, 'measurement', undefined],
  ])('refuses %j at %s', (over, path, message) => {
    const r = validateSiteConfig({ site: 'demo', ...over });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const issue = r.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(r.issues)).toBeDefined();
    if (message) expect(issue?.message).toBe(message);
  });
});

describe('isSafeUrl', () => {
  it.each(['/a', 'a/b', '?x=1', '#top', 'https://x.test/a', 'HTTP://x.test', '//cdn.test/a.png'])('allows %s', (u) => {
    expect(isSafeUrl(u)).toBe(true);
  });
  it.each([
    'javascript:alert(1)',
    'JaVaScRiPt:x',
    ' javascript:x',
    'java\nscript:x',
    'data:text/html,x',
    'vbscript:x',
    'file:///etc/passwd',
  ])('refuses %j', (u) => {
    expect(isSafeUrl(u)).toBe(false);
  });
});

describe('touchSchema', () => {
  it('refuses an unknown channel and over-long fields', () => {
    const base = { source: 'google', medium: 'organic', channel: 'Organic Search', landingPath: '/', at: 1 };
    expect(touchSchema.safeParse(base).success).toBe(true);
    expect(touchSchema.safeParse({ ...base, channel: 'Organic' }).success).toBe(false);
    expect(touchSchema.safeParse({ ...base, source: 'x'.repeat(201) }).success).toBe(false);
  });
});

describe('JSON Schema', () => {
  it('is generated from the zod schema and describes variants and prompts', () => {
    const json = JSON.parse(readFileSync(new URL('../dist/site-config.schema.json', import.meta.url), 'utf8'));
    expect(json.properties.variants.items.properties.slots).toBeDefined();
    expect(json.properties.prompts.items.properties.kind.enum).toEqual(['account', 'optin']);
    expect(json.required).toEqual(['site']);
    expect(json.properties.variants.items.properties.holdout).toMatchObject({ minimum: 0, maximum: 0.5 });
    expect(json.properties.measurement.properties.holdout).toMatchObject({ default: 0.1, maximum: 0.5 });
    // Same shape the runtime validator accepts.
    expect(siteConfigSchema.safeParse({ site: 'x' }).success).toBe(true);
  });
});
