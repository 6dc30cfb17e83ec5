import { describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '@cairn/schema';
import { channelOf, registrableDomain } from '../src/touch/index';
import { EXACT, fill, LABEL } from '../src/touch/sources';

// channelOf on its own: GA4's default channel group rules, in GA4's order, for UTM-style input.
// Rows: source, medium, campaign, expected channel.
const rows: [string, string, string | undefined, string][] = [
  ['(direct)', '(none)', undefined, 'Direct'],
  ['(direct)', '(not set)', undefined, 'Direct'],
  ['(Direct)', '(None)', undefined, 'Direct'],
  ['(direct)', 'cpc', undefined, 'Paid Other'],
  ['direct', '(none)', undefined, 'Unassigned'],
  // Cross-network comes before every paid rule, and before Direct's neighbours.
  ['google', 'cpc', 'PMax Cross-Network', 'Cross-network'],
  ['newsletter', 'email', 'cross-network-q4', 'Cross-network'],
  // Paid Shopping: a shopping source or a shopping campaign, with a paid medium.
  ['amazon', 'cpc', undefined, 'Paid Shopping'],
  ['amazon.co.uk', 'paid', undefined, 'Paid Shopping'],
  ['walmart', 'retargeting', undefined, 'Paid Shopping'],
  ['igshopping', 'cpc', undefined, 'Paid Shopping'],
  ['google', 'cpc', 'shopping', 'Paid Shopping'],
  ['google', 'cpc', 'Summer Shop', 'Paid Shopping'],
  ['facebook', 'cpc', 'shop-now', 'Paid Shopping'],
  ['google', 'cpc', 'eshop', 'Paid Shopping'],
  ['google', 'cpc', 'workshop', 'Paid Search'],
  ['google', 'cpc', 'shoppers', 'Paid Shopping'],
  // Paid Search / Social / Video.
  ['google', 'cpc', undefined, 'Paid Search'],
  ['google.com', 'cpc', undefined, 'Paid Search'],
  ['bing', 'ppc', undefined, 'Paid Search'],
  ['baidu', 'paid-search', undefined, 'Paid Search'],
  ['ecosia', 'cpc', undefined, 'Paid Search'],
  ['google', 'ecpc', undefined, 'Paid Search'],
  ['facebook', 'cpc', undefined, 'Paid Social'],
  ['fb', 'cpc', undefined, 'Paid Social'],
  ['ig', 'cpc', undefined, 'Paid Social'],
  ['l.facebook.com', 'cpc', undefined, 'Paid Social'],
  ['linkedin', 'paidsocial', undefined, 'Paid Social'],
  ['pinterest.de', 'cpc', undefined, 'Paid Social'],
  ['tiktok', 'cpm', undefined, 'Paid Social'],
  ['reddit', 'retargeting', undefined, 'Paid Social'],
  ['youtube', 'cpv', undefined, 'Paid Video'],
  ['m.youtube.com', 'cpc', undefined, 'Paid Video'],
  ['twitch', 'paid', undefined, 'Paid Video'],
  ['netflix', 'cpc', undefined, 'Paid Video'],
  // Display before Paid Other; cpm is both.
  ['adnetwork', 'display', undefined, 'Display'],
  ['adnetwork', 'banner', undefined, 'Display'],
  ['adnetwork', 'expandable', undefined, 'Display'],
  ['adnetwork', 'interstitial', undefined, 'Display'],
  ['adnetwork', 'cpm', undefined, 'Display'],
  ['adnetwork', 'display_ads', undefined, 'Unassigned'],
  ['adnetwork', 'cpc', undefined, 'Paid Other'],
  ['adnetwork', 'cpa', undefined, 'Paid Other'],
  ['adnetwork', 'cpv', undefined, 'Paid Other'],
  ['adnetwork', 'paid_other', undefined, 'Paid Other'],
  ['adnetwork', 'retargeting', undefined, 'Paid Other'],
  ['adnetwork', 'ppc', undefined, 'Paid Other'],
  ['adnetwork', 'ppcx', undefined, 'Unassigned'],
  ['adnetwork', 'unpaid', undefined, 'Unassigned'],
  // Organic Shopping, Social, Video, Search, in that order.
  ['ebay', 'referral', undefined, 'Organic Shopping'],
  ['shopify', '(not set)', undefined, 'Organic Shopping'],
  ['partner', 'email', 'spring-shopping', 'Organic Shopping'],
  ['facebook', 'referral', 'shop', 'Organic Shopping'],
  ['facebook', 'referral', undefined, 'Organic Social'],
  ['twitter.com', 'tweet', undefined, 'Organic Social'],
  ['t.co', 'referral', undefined, 'Organic Social'],
  ['whatsapp', 'share', undefined, 'Organic Social'],
  ['partner', 'social', undefined, 'Organic Social'],
  ['partner', 'Social Network', undefined, 'Organic Social'],
  ['google', 'social', undefined, 'Organic Social'],
  ['youtube', 'referral', undefined, 'Organic Video'],
  ['vimeo', 'email', undefined, 'Organic Video'],
  ['partner', 'video', undefined, 'Organic Video'],
  ['partner', 'youtube-video-description', undefined, 'Organic Video'],
  ['google', 'video', undefined, 'Organic Video'],
  ['google', 'organic', undefined, 'Organic Search'],
  ['google', 'referral', undefined, 'Organic Search'],
  ['yahoo', 'email', undefined, 'Organic Search'],
  ['partner', 'organic', undefined, 'Organic Search'],
  ['partner', 'organic-social', undefined, 'Unassigned'],
  // Referral, Email, Affiliates, Audio, SMS, Mobile Push Notifications, Unassigned.
  ['blog.example.com', 'referral', undefined, 'Referral'],
  ['partner', 'app', undefined, 'Referral'],
  ['partner', 'link', undefined, 'Referral'],
  ['newsletter', 'email', undefined, 'Email'],
  ['newsletter', 'E-Mail', undefined, 'Email'],
  ['e_mail', 'anything', undefined, 'Email'],
  ['e mail', 'anything', undefined, 'Email'],
  ['gmail', 'email', undefined, 'Email'],
  ['gmail', '(not set)', undefined, 'Unassigned'],
  ['newsletter', 'email-blast', undefined, 'Unassigned'],
  ['awin', 'affiliate', undefined, 'Affiliates'],
  ['spotify', 'audio', undefined, 'Audio'],
  ['spotify', 'audio-ad', undefined, 'Unassigned'],
  ['sms', '(not set)', undefined, 'SMS'],
  ['twilio', 'sms', undefined, 'SMS'],
  ['twilio', 'smsx', undefined, 'Unassigned'],
  ['onesignal', 'push', undefined, 'Mobile Push Notifications'],
  ['onesignal', 'webpush', undefined, 'Mobile Push Notifications'],
  ['app', 'mobile-banner', undefined, 'Mobile Push Notifications'],
  ['app', 'notification', undefined, 'Mobile Push Notifications'],
  ['firebase', '(not set)', undefined, 'Mobile Push Notifications'],
  ['app', 'push-ups', undefined, 'Unassigned'],
  ['partner', 'foo', undefined, 'Unassigned'],
  ['', '', undefined, 'Unassigned'],
];

describe('channelOf follows GA4 default channel group rules', () => {
  for (const [source, medium, campaign, channel] of rows) {
    it(`${source} / ${medium}${campaign ? ` / ${campaign}` : ''} → ${channel}`, () => {
      expect(channelOf({ source, medium, campaign })).toBe(channel);
    });
  }

  it('only ever returns GA4 channel names', () => {
    for (const [source, medium, campaign] of rows) expect(CHANNELS).toContain(channelOf({ source, medium, campaign }));
  });

  it('does not throw on junk', () => {
    expect(channelOf(null as never)).toBe('Unassigned');
    expect(channelOf({ source: 5, medium: {} } as never)).toBe('Unassigned');
  });
});

describe('registrableDomain', () => {
  const cases: [string, string][] = [
    ['example.com', 'example.com'],
    ['www.example.com', 'example.com'],
    ['a.b.c.example.com', 'example.com'],
    ['WWW.Example.COM.', 'example.com'],
    ['shop.example.com:8080', 'example.com'],
    ['www.shop.co.uk', 'shop.co.uk'],
    ['checkout.shop.co.uk', 'shop.co.uk'],
    ['shop.org.uk', 'shop.org.uk'],
    ['www.store.com.au', 'store.com.au'],
    ['store.co.jp', 'store.co.jp'],
    ['search.yahoo.co.jp', 'yahoo.co.jp'],
    ['www.google.com.br', 'google.com.br'],
    ['www.google.co.in', 'google.co.in'],
    ['www.amazon.com.mx', 'amazon.com.mx'],
    ['shop.example.ne.jp', 'example.ne.jp'],
    ['www.gov.uk', 'www.gov.uk'],
    ['mystore.myshopify.com', 'mystore.myshopify.com'],
    ['someone.github.io', 'someone.github.io'],
    ['x.blogspot.com', 'x.blogspot.com'],
    ['example.de', 'example.de'],
    ['blog.example.de', 'example.de'],
    ['t.co', 't.co'],
    ['shop.co', 'shop.co'],
    ['www.shop.co', 'shop.co'],
    ['co.uk', 'co.uk'],
    ['localhost', 'localhost'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['', ''],
  ];
  for (const [host, expected] of cases)
    it(`${host || '(empty)'} → ${expected}`, () => expect(registrableDomain(host)).toBe(expected));

  it('does not throw on junk', () => {
    expect(registrableDomain(undefined as never)).toBe('');
    expect(registrableDomain(42 as never)).toBe('');
  });
});

describe('source tables', () => {
  it('are filled at the first classification, not before: the pages after a landing need none', async () => {
    vi.resetModules();
    const sources = await import('../src/touch/sources');
    const touch = await import('../src/touch/index');
    // Internal navigation classifies nothing.
    expect(touch.resolveTouch({ url: 'https://shop.com/b', referrer: 'https://www.shop.com/a' })).toBeNull();
    expect(Object.keys(sources.LABEL)).toHaveLength(0);
    expect(touch.resolveTouch({ url: 'https://shop.com/?utm_source=fb&utm_medium=cpc' })?.source).toBe('facebook');
    expect(Object.keys(sources.LABEL).length).toBeGreaterThan(50);
    expect(sources.EXACT['x.com']).toEqual(['twitter', 'o', false]);
  });

  it('hold valid entries', () => {
    fill();
    for (const [key, [name, cat]] of Object.entries({ ...EXACT, ...LABEL })) {
      expect(key).toMatch(/^[a-z0-9][a-z0-9.+ -]*$/);
      expect(name).toMatch(/^[a-z0-9][a-z0-9. -]*$/);
      expect('sovpm').toContain(cat);
    }
    // Label keys are a host's main label: no dots.
    for (const k of Object.keys(LABEL)) expect(k).not.toContain('.');
  });

  it('cover the sources the issue names', () => {
    for (const s of ['fb', 'facebook.com', 'm.facebook.com', 'l.facebook.com', 'lm.facebook.com'])
      expect(channelOf({ source: s, medium: 'referral' }), s).toBe('Organic Social');
    expect(channelOf({ source: 'ig', medium: 'referral' })).toBe('Organic Social');
  });
});
