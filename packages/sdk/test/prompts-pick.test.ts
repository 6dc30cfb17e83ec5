import { describe, expect, it } from 'vitest';
import { promptSchema, type Prompt, type Touch } from '@cairn/schema';
import { deviceKind } from '../src/device-kind';
import { displayMode, globMatch, pickPrompt, promptContent, type PickInput, type PromptState } from '../src/prompts';

const DAY = 864e5;
const NOW = Date.UTC(2025, 5, 1);

/** A prompt as the server serves it: validated, defaults filled in. */
const prompt = (over: Record<string, unknown> = {}): Prompt =>
  promptSchema.parse({
    id: 'guide',
    kind: 'optin',
    content: { title: 'Get our free linen care guide', cta: 'Send it' },
    ...over,
  });

const touch = (source: string, channel: Touch['channel'], medium = '(none)'): Touch => ({
  source,
  medium,
  channel,
  landingPath: '/',
  at: NOW,
});

const input = (over: Partial<PickInput> = {}): PickInput => ({
  pages: { session: 3, lifetime: 3 },
  path: '/products/linen-sheet',
  touch: null,
  device: 'desktop',
  identified: false,
  now: NOW,
  sessionId: 's1',
  ...over,
});

const pick = (p: Prompt | Prompt[], state: PromptState = {}, over: Partial<PickInput> = {}) =>
  pickPrompt(Array.isArray(p) ? p : [p], state, input(over))?.id ?? null;

describe('trigger', () => {
  it('shows from the 3rd page of the visit by default, not before', () => {
    const p = prompt();
    expect([1, 2, 3, 4].map((n) => pick(p, {}, { pages: { session: n, lifetime: 10 } }))).toEqual([
      null,
      null,
      'guide',
      'guide',
    ]);
  });

  it('counts the visit for scope "session" and the device for scope "lifetime"', () => {
    const session = prompt({ trigger: { afterPages: 5, scope: 'session' } });
    const lifetime = prompt({ trigger: { afterPages: 5, scope: 'lifetime' } });
    const early = { pages: { session: 2, lifetime: 7 } };
    expect(pick(session, {}, early)).toBe(null);
    expect(pick(lifetime, {}, early)).toBe('guide');
    const late = { pages: { session: 6, lifetime: 6 } };
    expect(pick(session, {}, late)).toBe('guide');
    expect(pick(lifetime, {}, { pages: { session: 9, lifetime: 4 } })).toBe(null);
  });

  it('a page skipped by the audience rules does not lose the trigger', () => {
    const p = prompt();
    expect(pick(p, {}, { pages: { session: 3, lifetime: 3 }, path: '/cart' })).toBe(null);
    expect(pick(p, {}, { pages: { session: 4, lifetime: 4 }, path: '/collections/bedding' })).toBe('guide');
  });
});

describe('frequency', () => {
  it('shows at most once per visit, and again in a later visit', () => {
    const p = prompt();
    const state: PromptState = { shown: { guide: 's1' } };
    expect(pick(p, state, { pages: { session: 5, lifetime: 5 } })).toBe(null);
    expect(pick(p, state, { sessionId: 's2' })).toBe('guide');
  });

  it('shows one prompt per visit, whichever it was', () => {
    const list = [
      prompt(),
      prompt({
        id: 'account',
        kind: 'account',
        content: { title: 'Save your cart', cta: 'Sign in', loginUrl: '/login' },
      }),
    ];
    expect(pick(list)).toBe('guide');
    expect(pick(list, { shown: { guide: 's1' } })).toBe(null);
    // Another visit: the first one that still qualifies.
    expect(pick(list, { shown: { guide: 's1' }, done: { guide: NOW } }, { sessionId: 's2' })).toBe('account');
  });

  it('snoozes snoozeDays (7 by default) after a dismissal', () => {
    const p = prompt();
    const at = (days: number): PromptState => ({ dismissed: { guide: NOW - days * DAY } });
    expect(pick(p, at(6.9), { sessionId: 's9' })).toBe(null);
    expect(pick(p, at(7), { sessionId: 's9' })).toBe('guide');
    const short = prompt({ snoozeDays: 1 });
    expect(pick(short, at(0.5))).toBe(null);
    expect(pick(short, at(1.5))).toBe('guide');
  });

  it('never shows again once submitted', () => {
    expect(pick(prompt(), { done: { guide: NOW - 400 * DAY } }, { sessionId: 'later' })).toBe(null);
  });
});

describe('audience', () => {
  it('keeps identified and opted-in visitors out by default', () => {
    const p = prompt();
    expect(pick(p, {}, { identified: true })).toBe(null);
    expect(pick(p, { optedIn: true })).toBe(null);
    expect(pick(prompt({ audience: { identified: true } }), {}, { identified: true })).toBe('guide');
    expect(pick(prompt({ audience: { optedIn: true } }), { optedIn: true })).toBe('guide');
  });

  it('filters on the touch channel and source', () => {
    const social = prompt({ audience: { channels: ['Organic Social', 'Paid Social'] } });
    expect(pick(social, {}, { touch: touch('pinterest', 'Organic Social', 'social') })).toBe('guide');
    expect(pick(social, {}, { touch: touch('google', 'Organic Search', 'organic') })).toBe(null);
    expect(pick(social, {}, { touch: null })).toBe(null);
    const pin = prompt({ audience: { sources: ['Pinterest'] } });
    expect(pick(pin, {}, { touch: touch('pinterest', 'Organic Social') })).toBe('guide');
    expect(pick(pin, {}, { touch: touch('facebook', 'Organic Social') })).toBe(null);
  });

  it('excludes /cart and /checkout by default, and honours include/exclude globs', () => {
    const p = prompt();
    for (const path of ['/cart', '/cart/', '/checkout', '/checkout/shipping/step-2', '/CART'])
      expect(pick(p, {}, { path })).toBe(null);
    expect(pick(p, {}, { path: '/carton-boxes' })).toBe('guide');
    const blog = prompt({ audience: { includePaths: ['/blog/*'], excludePaths: ['/blog/draft-*'] } });
    expect(pick(blog, {}, { path: '/blog/linen-care' })).toBe('guide');
    expect(pick(blog, {}, { path: '/blog/2024/linen-care' })).toBe(null);
    expect(pick(blog, {}, { path: '/blog/draft-x' })).toBe(null);
    expect(pick(blog, {}, { path: '/products/x' })).toBe(null);
  });

  it('globs: * stays in a segment, ** crosses, regex characters are literal', () => {
    expect(globMatch('/a/*', '/a/b')).toBe(true);
    expect(globMatch('/a/*', '/a/b/c')).toBe(false);
    expect(globMatch('/a/**', '/a/b/c')).toBe(true);
    expect(globMatch('/a.b', '/axb')).toBe(false);
    expect(globMatch('/p/(x)+', '/p/(x)+')).toBe(true);
  });
});

describe('unvalidated inline config', () => {
  it('reads missing defaults as the schema defaults', () => {
    const raw = { id: 'guide', kind: 'optin', content: { title: 'T', cta: 'Go' } } as unknown as Prompt;
    expect(pickPrompt([raw], {}, input({ pages: { session: 2, lifetime: 2 } }))).toBe(null);
    expect(pickPrompt([raw], {}, input())?.id).toBe('guide');
    expect(pickPrompt([raw], {}, input({ path: '/checkout/pay' }))).toBe(null);
    expect(pickPrompt([raw], {}, input({ identified: true }))).toBe(null);
    expect(pickPrompt([raw], { dismissed: { guide: NOW - 6 * DAY } }, input({ sessionId: 'x' }))).toBe(null);
  });

  it('skips garbage without throwing', () => {
    const junk = [
      null,
      42,
      { id: 'x' },
      { id: 'y', content: { title: 'T', cta: 'C' }, audience: { includePaths: 'nope', channels: 'Email' } },
    ] as unknown as Prompt[];
    expect(pickPrompt(junk, undefined, input())).toBe(null);
    expect(pickPrompt(undefined, undefined, input())).toBe(null);
  });
});

describe('content by source', () => {
  const p = prompt({
    content: { title: 'Get our free linen care guide', cta: 'Send it', consent: 'You can unsubscribe at any time.' },
    contentBySource: { pinterest: { title: 'Loved it on Pinterest?' }, Email: { cta: 'Welcome back' } },
  });

  it('overrides content fields by touch source, case-insensitively', () => {
    const r = promptContent(p, touch('Pinterest', 'Organic Social'));
    expect(r.variant).toBe('pinterest');
    expect(r.content.title).toBe('Loved it on Pinterest?');
    expect(r.content.cta).toBe('Send it');
    expect(r.content.consent).toBe('You can unsubscribe at any time.');
  });

  it('falls back to the channel, then to the base content', () => {
    expect(promptContent(p, touch('newsletter', 'Email', 'email'))).toMatchObject({
      variant: 'Email',
      content: { cta: 'Welcome back' },
    });
    expect(promptContent(p, touch('google', 'Organic Search'))).toEqual({ variant: 'default', content: p.content });
    expect(promptContent(p, null).variant).toBe('default');
  });
});

describe('desktop or mobile', () => {
  const mm = (matches: (q: string) => boolean) => ({
    matchMedia: (q: string) => ({ matches: matches(q) }) as MediaQueryList,
  });

  it('desktop is a wide viewport with a fine pointer, by the configurable query', () => {
    expect(deviceKind(mm(() => true))).toBe('desktop');
    expect(deviceKind(mm(() => false))).toBe('mobile');
    expect(
      deviceKind(
        mm((q) => q === '(min-width: 1200px)'),
        '(min-width: 1200px)',
      ),
    ).toBe('desktop');
  });

  it('desktop gets the pop-in unless configured inline; mobile is always inline', () => {
    expect(displayMode(prompt(), 'desktop')).toBe('popin');
    expect(displayMode(prompt(), 'mobile')).toBe('inline');
    expect(displayMode(prompt({ display: { desktop: 'inline' } }), 'desktop')).toBe('inline');
    // Even a hand-written config asking for a mobile pop-in gets inline.
    const raw = { ...prompt(), display: { desktop: 'popin', mobile: 'popin' } } as unknown as Prompt;
    expect(displayMode(raw, 'mobile')).toBe('inline');
  });
});
