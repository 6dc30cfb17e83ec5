// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { siteConfigSchema, type SiteConfig, type Touch } from '@cairn/schema';
import type { Kv, PromptContext } from '../src/types';
import { startPrompts, validEmail, withReturn, isSafeUrl, type PromptState } from '../src/prompts';
import { decidePrompt } from '../src/prompts/decide';

/** Memory storage whose update is atomic like the real one: updates run one at a time, on copies. */
function memoryKv(): Kv & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  let queue: Promise<unknown> = Promise.resolve();
  const copy = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
  return {
    data,
    get: async <T>(k: string) => copy(data.get(k)) as T | undefined,
    set: async (k, v) => void data.set(k, copy(v)),
    del: async (k) => void data.delete(k),
    update<T>(k: string, fn: (old: T | undefined) => T): Promise<T> {
      const run = queue.then(async () => {
        await Promise.resolve(); // a real store is asynchronous in between
        const v = fn(copy(data.get(k)) as T | undefined);
        data.set(k, copy(v));
        return v;
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

const config = (prompts: unknown[]): SiteConfig => siteConfigSchema.parse({ site: 'demo', prompts });

const OPTIN = {
  id: 'guide',
  kind: 'optin',
  content: {
    title: 'Get our free linen care guide',
    body: 'Wash, dry and iron like a pro.',
    cta: 'Send me the guide',
    consent: 'I agree to receive emails from Linen & Co. Unsubscribe at any time.',
    success: 'Check your inbox!',
    error: 'That did not work, please try again.',
    locale: 'en-GB',
  },
  contentBySource: { pinterest: { title: 'Pinned it? Get the full guide' } },
};
const ACCOUNT = {
  id: 'account',
  kind: 'account',
  content: {
    title: 'Save your favourites',
    cta: 'Create an account',
    loginUrl: 'https://shop.example/account/login?lang=en#top',
    providers: [
      { name: 'Google', url: 'https://shop.example/auth/google' },
      { name: 'Apple', url: '/auth/apple' },
    ],
  },
};

type Events = { type: string; props?: Record<string, unknown> }[];

function context(over: Partial<PromptContext> = {}) {
  const events: Events = [];
  const ctx: PromptContext = {
    config: config([OPTIN]),
    doc: document,
    device: 'desktop',
    path: '/products/linen-sheet',
    touch: null,
    sessionId: 's1',
    pages: { session: 3, lifetime: 3 },
    identified: false,
    kv: memoryKv(),
    emit: (type, props) => void events.push({ type, props }),
    submitOptin: vi.fn(async () => undefined),
    returnUrl: 'https://shop.example/products/linen-sheet?size=king&c=1',
    ...over,
  };
  return { ctx, events };
}

const hosts = (mode?: string) =>
  [...document.querySelectorAll(mode ? `[data-cairn-prompt="${mode}"]` : '[data-cairn-prompt]')] as HTMLElement[];
const $ = <T extends Element = HTMLElement>(host: HTMLElement, sel: string) => host.shadowRoot!.querySelector(sel) as T;
const types = (e: Events) => e.map((x) => x.type);
const state = async (ctx: PromptContext) => (await ctx.kv.get<PromptState>('prompts')) ?? {};
const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  document.body.innerHTML =
    '<button id="before">focus me</button><main><h1>Linen sheet</h1><p>Copy</p></main><footer>f</footer>';
  (document.getElementById('before') as HTMLElement).focus();
});
afterEach(() => {
  for (const h of hosts()) h.remove();
});

describe('startPrompts: trigger and state', () => {
  it('shows nothing on pages 1 and 2, the pop-in on page 3, and not again later in the visit', async () => {
    const kv = memoryKv();
    const { ctx, events } = context({ kv });
    for (const session of [1, 2])
      expect(await startPrompts({ ...ctx, pages: { session, lifetime: session } })).toBe(null);
    expect(hosts()).toHaveLength(0);
    expect((await startPrompts({ ...ctx, pages: { session: 3, lifetime: 3 } }))?.id).toBe('guide');
    expect(hosts('popin')).toHaveLength(1);
    hosts()[0]!.remove();
    // Later pages and reloads (a fresh call over the same storage) keep quiet.
    for (const session of [4, 4, 5])
      expect(await startPrompts({ ...ctx, pages: { session, lifetime: session } })).toBe(null);
    expect(hosts()).toHaveLength(0);
    expect(types(events)).toEqual(['prompt_shown']);
    expect(events[0]!.props).toEqual({ prompt: 'guide', variant: 'default', device: 'desktop' });
    expect((await state(ctx)).shown).toEqual({ guide: 's1' });
  });

  it('two tabs claiming at the same time: exactly one shows it', async () => {
    const kv = memoryKv();
    const a = context({ kv, pages: { session: 3, lifetime: 3 } });
    const b = context({ kv, pages: { session: 4, lifetime: 4 } });
    const [ra, rb] = await Promise.all([startPrompts(a.ctx), startPrompts(b.ctx)]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    expect(hosts()).toHaveLength(1);
    expect([...types(a.events), ...types(b.events)]).toEqual(['prompt_shown']);
  });

  it('does nothing without prompts, for identified visitors, or on /checkout', async () => {
    for (const over of [
      { config: config([]) },
      { identified: true },
      { path: '/checkout/payment' },
      { config: {} as SiteConfig },
    ]) {
      const { ctx, events } = context(over);
      expect(await startPrompts(ctx)).toBe(null);
      expect(events).toEqual([]);
    }
    expect(hosts()).toHaveLength(0);
  });

  it('has the UI before it claims: a UI that cannot be had claims, shows and counts nothing', async () => {
    const kv = memoryKv();
    const { ctx, events } = context({ kv });
    let asked = 0;
    const failing = () => (asked++, Promise.reject(new Error('blocked')));
    expect(await decidePrompt(ctx, undefined, failing)).toBe(null);
    expect(asked).toBe(1);
    expect(await state(ctx)).toEqual({});
    expect(hosts()).toHaveLength(0);
    expect(events).toEqual([]);
    // A later page whose UI loads shows it: the failed one took nothing.
    expect((await startPrompts(ctx))?.id).toBe('guide');
    // No prompt due: the UI is not even asked for.
    expect(await decidePrompt(ctx, undefined, failing)).toBe(null);
    expect(asked).toBe(1);
  });

  it('decides only once the page is seen: a hidden tab uses no prompt up', async () => {
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    try {
      const { ctx, events } = context();
      let done = false;
      const decided = startPrompts(ctx).then((p) => ((done = true), p));
      await flush();
      expect(done).toBe(false);
      expect(await state(ctx)).toEqual({});
      expect(hosts()).toHaveLength(0);
      // Still hidden: nothing yet.
      document.dispatchEvent(new Event('visibilitychange'));
      await flush();
      expect(done).toBe(false);
      visibility.mockReturnValue('visible');
      document.dispatchEvent(new Event('visibilitychange'));
      expect((await decided)?.id).toBe('guide');
      expect(hosts()).toHaveLength(1);
      expect(types(events)).toEqual(['prompt_shown']);
    } finally {
      visibility.mockRestore();
    }
  });

  it('a decision a later page view overtook while its UI loaded is dropped: nothing claimed or shown', async () => {
    const { ctx, events } = context();
    let current = true;
    let arrive: (show: typeof import('../src/prompts/ui').showPrompt) => void = () => {};
    const ui = () => new Promise<typeof import('../src/prompts/ui').showPrompt>((r) => (arrive = r));
    const decided = decidePrompt({ ...ctx, _current: () => current }, undefined, ui);
    await flush();
    // The visitor moved on (an SPA route) before the file came.
    current = false;
    arrive((await import('../src/prompts/ui')).showPrompt);
    expect(await decided).toBe(null);
    expect(await state(ctx)).toEqual({});
    expect(hosts()).toHaveLength(0);
    expect(events).toEqual([]);
  });

  it('never throws into the page, even when storage fails', async () => {
    const kv = memoryKv();
    kv.update = () => Promise.reject(new Error('quota'));
    await expect(startPrompts(context({ kv }).ctx)).resolves.toBe(null);
    kv.get = () => Promise.reject(new Error('gone'));
    await expect(startPrompts(context({ kv }).ctx)).resolves.toBe(null);
    expect(hosts()).toHaveLength(0);
  });

  it('uses the content for the visit source and reports it as the variant', async () => {
    const t: Touch = { source: 'pinterest', medium: 'social', channel: 'Organic Social', landingPath: '/', at: 1 };
    const { ctx, events } = context({ touch: t });
    await startPrompts(ctx);
    expect($(hosts()[0]!, 'h2').textContent).toBe('Pinned it? Get the full guide');
    expect(events[0]!.props).toMatchObject({ variant: 'pinterest' });
  });
});

describe('desktop pop-in', () => {
  it('is a modal dialog with an accessible name, focus inside, and a labelled close button', async () => {
    const { ctx } = context();
    await startPrompts(ctx);
    const host = hosts('popin')[0]!;
    expect(host.parentElement).toBe(document.body);
    const dialog = $<HTMLDialogElement>(host, 'dialog');
    expect(dialog.open).toBe(true);
    const name = host.shadowRoot!.getElementById(dialog.getAttribute('aria-labelledby')!);
    expect(name?.textContent).toBe('Get our free linen care guide');
    expect(dialog.lang).toBe('en-GB');
    expect(host.shadowRoot!.activeElement).toBe($(host, 'input'));
    const close = $<HTMLButtonElement>(host, 'button.x');
    expect(close.getAttribute('aria-label')).toBe('Close');
  });

  it('"No thanks" stands beside the ×, in words, and dismisses like it: never shown again in the snooze', async () => {
    const { ctx, events } = context();
    await startPrompts(ctx);
    const host = hosts()[0]!;
    const no = $<HTMLButtonElement>(host, 'button.n');
    expect(no.textContent).toBe('No thanks');
    // Beside the ×: the next button, before the title.
    expect(no.previousElementSibling).toBe($(host, 'button.x'));
    expect(no.nextElementSibling?.tagName).toBe('H2');
    no.click();
    await flush();
    expect(hosts()).toHaveLength(0);
    expect(document.activeElement?.id).toBe('before');
    expect(types(events)).toEqual(['prompt_shown', 'prompt_dismissed']);
    expect(typeof (await state(ctx)).dismissed?.guide).toBe('number');
    for (const session of ['s2', 's3'])
      expect(await startPrompts({ ...ctx, sessionId: session, pages: { session: 5, lifetime: 9 } })).toBe(null);
    expect(hosts()).toHaveLength(0);
  });

  it('"No thanks" reads the configured dismiss text', async () => {
    await startPrompts(
      context({ config: config([{ ...OPTIN, content: { ...OPTIN.content, dismiss: 'Not now' } }]) }).ctx,
    );
    expect($(hosts()[0]!, 'button.n').textContent).toBe('Not now');
  });

  it('the close button dismisses it, returns focus, and snoozes it', async () => {
    const { ctx, events } = context();
    await startPrompts(ctx);
    $(hosts()[0]!, 'button.x').click();
    await flush();
    expect(hosts()).toHaveLength(0);
    expect(document.activeElement?.id).toBe('before');
    expect(types(events)).toEqual(['prompt_shown', 'prompt_dismissed']);
    expect(events[1]!.props).toEqual({ prompt: 'guide', variant: 'default', device: 'desktop' });
    const s = await state(ctx);
    expect(typeof s.dismissed?.guide).toBe('number');
    // Next visit, within the snooze: nothing.
    expect(await startPrompts({ ...ctx, sessionId: 's2' })).toBe(null);
  });

  it('Esc (the cancel event) closes it, once', async () => {
    const { ctx, events } = context();
    await startPrompts(ctx);
    const dialog = $<HTMLDialogElement>(hosts()[0]!, 'dialog');
    dialog.dispatchEvent(new Event('cancel', { cancelable: true }));
    dialog.dispatchEvent(new Event('close'));
    await flush();
    expect(hosts()).toHaveLength(0);
    expect(document.activeElement?.id).toBe('before');
    expect(types(events).filter((t) => t === 'prompt_dismissed')).toHaveLength(1);
  });

  it('is styled through an adopted stylesheet: themeable, motion only without reduced-motion, no <style>', async () => {
    const { ctx } = context();
    await startPrompts(ctx);
    const root = hosts()[0]!.shadowRoot!;
    expect(root.querySelector('style')).toBe(null);
    const css = [...root.adoptedStyleSheets].map((s) => [...s.cssRules].map((r) => r.cssText).join('')).join('');
    for (const v of ['--cairn-accent', '--cairn-font', '--cairn-bg', '--cairn-fg', '--cairn-radius'])
      expect(css).toContain(`var(${v}`);
    expect(css).toMatch(/prefers-reduced-motion:\s*no-preference[^{]*\{[^}]*animation/);
    // The outcome messages have their own colours, themeable.
    expect(css).toMatch(/\[role="?alert"?\]\s*\{[^}]*color:\s*var\(--cairn-error/);
    expect(css).toMatch(/\[role="?status"?\]\s*\{[^}]*color:\s*var\(--cairn-success/);
  });
});

describe('inline (mobile, or desktop configured inline)', () => {
  it('mobile gets an in-flow block at the end of <main>, never a dialog', async () => {
    const { ctx, events } = context({ device: 'mobile' });
    await startPrompts(ctx);
    expect(hosts('popin')).toHaveLength(0);
    const host = hosts('inline')[0]!;
    expect(host.parentElement).toBe(document.querySelector('main'));
    expect(host.previousElementSibling?.tagName).toBe('P');
    expect(host.shadowRoot!.querySelector('dialog')).toBe(null);
    for (const el of [host, $(host, '.b')])
      expect(['fixed', 'absolute', 'sticky']).not.toContain(getComputedStyle(el).position);
    // Showing it does not steal focus.
    expect(document.activeElement?.id).toBe('before');
    expect(events[0]!.props).toMatchObject({ device: 'mobile' });
    const section = $(host, 'section');
    expect(host.shadowRoot!.getElementById(section.getAttribute('aria-labelledby')!)?.textContent).toBe(
      'Get our free linen care guide',
    );
  });

  it('goes to [data-cairn-inline], or the configured anchor, else the body', async () => {
    document.body.insertAdjacentHTML('afterbegin', '<div data-cairn-inline></div><div id="here"></div>');
    await startPrompts(context({ device: 'mobile' }).ctx);
    expect(hosts()[0]!.parentElement).toBe(document.querySelector('[data-cairn-inline]'));
    hosts()[0]!.remove();

    await startPrompts(context({ device: 'mobile', config: config([{ ...OPTIN, inlineAnchor: '#here' }]) }).ctx);
    expect(hosts()[0]!.parentElement?.id).toBe('here');
    hosts()[0]!.remove();

    document.body.innerHTML = '<p>no main</p>';
    await startPrompts(
      context({ device: 'mobile', config: config([{ ...OPTIN, inlineAnchor: '<<bad selector' }]) }).ctx,
    );
    expect(hosts()[0]!.parentElement).toBe(document.body);
  });

  it('desktop with display.desktop "inline" is inline too', async () => {
    await startPrompts(context({ config: config([{ ...OPTIN, display: { desktop: 'inline' } }]) }).ctx);
    expect(hosts('inline')).toHaveLength(1);
  });

  it('can be dismissed, with "No thanks" too', async () => {
    const { ctx, events } = context({ device: 'mobile' });
    await startPrompts(ctx);
    $(hosts()[0]!, 'button.n').click();
    await flush();
    expect(hosts()).toHaveLength(0);
    expect(types(events)).toEqual(['prompt_shown', 'prompt_dismissed']);
  });
});

describe('hostile config text', () => {
  it('is rendered as text, never as HTML, and unsafe links are dropped', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';
    const p = {
      id: 'account',
      kind: 'account',
      content: {
        title: evil,
        body: evil,
        cta: evil,
        loginUrl: 'javascript:window.__pwned=1',
        providers: [
          { name: evil, url: ' java\tscript:alert(1)' },
          { name: 'Data', url: 'data:text/html,<script>1</script>' },
          { name: 'Ok', url: '/auth/ok' },
        ],
      },
    };
    // Unvalidated inline config: the SDK must hold even what the schema would refuse.
    const { ctx } = context({ config: { site: 'x', prompts: [p] } as unknown as SiteConfig });
    await startPrompts(ctx);
    const root = hosts()[0]!.shadowRoot!;
    expect(root.querySelector('img, script')).toBe(null);
    expect(root.querySelector('h2')!.textContent).toBe(evil);
    expect(root.querySelector('p')!.textContent).toBe(evil);
    const links = [...root.querySelectorAll('a')];
    expect(links.map((a) => a.textContent)).toEqual(['Ok']);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });
});

describe('account prompt', () => {
  it('links to loginUrl and each provider with the return URL, and counts a click as submitted', async () => {
    const { ctx, events } = context({ config: config([ACCOUNT]) });
    await startPrompts(ctx);
    const links = [...hosts()[0]!.shadowRoot!.querySelectorAll('a')];
    const ret = encodeURIComponent(ctx.returnUrl);
    expect(links.map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['Create an account', `https://shop.example/account/login?lang=en&returnTo=${ret}#top`],
      ['Google', `https://shop.example/auth/google?returnTo=${ret}`],
      ['Apple', `/auth/apple?returnTo=${ret}`],
    ]);
    links[1]!.addEventListener('click', (e) => e.preventDefault());
    links[1]!.click();
    await flush();
    expect(types(events)).toEqual(['prompt_shown', 'prompt_submitted']);
    expect(typeof (await state(ctx)).done?.account).toBe('number');
  });

  it('withReturn appends correctly with or without a query or fragment', () => {
    const r = 'https://s.example/p?a=1&b=2#x';
    const e = encodeURIComponent(r);
    expect(withReturn('/login', r)).toBe(`/login?returnTo=${e}`);
    expect(withReturn('/login?x=1', r)).toBe(`/login?x=1&returnTo=${e}`);
    expect(withReturn('/login?', r)).toBe(`/login?returnTo=${e}`);
    expect(withReturn('/login#f', r)).toBe(`/login?returnTo=${e}#f`);
    expect(withReturn('https://a.example/o?x=1#f?g', r)).toBe(`https://a.example/o?x=1&returnTo=${e}#f?g`);
  });

  it('isSafeUrl allows only http(s) and relative URLs', () => {
    for (const u of ['https://a.example/x', 'HTTP://a', '/login', 'login', '?x=1', '//cdn.example/x', '/a:b'])
      expect(isSafeUrl(u)).toBe(true);
    for (const u of [
      'javascript:alert(1)',
      ' JavaScript:x',
      'java\nscript:x',
      '\u0000javascript:x',
      'data:text/html,x',
      'vbscript:x',
      42,
    ])
      expect(isSafeUrl(u)).toBe(false);
  });
});

describe('opt-in form', () => {
  const fill = async (host: HTMLElement, email: string) => {
    $<HTMLInputElement>(host, 'input').value = email;
    // As a click on the button would, focus leaves the field.
    $(host, 'form button').focus();
    $<HTMLFormElement>(host, 'form').dispatchEvent(new Event('submit', { cancelable: true }));
    await flush();
  };
  const alert = (host: HTMLElement) => $(host, '[role=alert]');
  const status = (host: HTMLElement) => $(host, '[role=status]');
  const ADDRESS = 'Enter a valid email address.';

  it('has a labelled email field, the consent text and the message as its description', async () => {
    const { ctx } = context();
    await startPrompts(ctx);
    const host = hosts()[0]!;
    const input = $<HTMLInputElement>(host, 'input');
    expect(input.type).toBe('email');
    expect($(host, `label[for="${input.id}"]`)?.textContent).toBeTruthy();
    const [consent, message] = input
      .getAttribute('aria-describedby')!
      .split(' ')
      .map((id) => host.shadowRoot!.getElementById(id));
    expect(consent?.textContent).toBe(OPTIN.content.consent);
    expect(message).toBe(alert(host));
    // Our check and message, not the browser's bubble.
    expect($(host, 'form').hasAttribute('novalidate')).toBe(true);
  });

  it('a malformed address gets the address message in role=alert, not the failure text, and no request', async () => {
    const { ctx } = context();
    await startPrompts(ctx);
    const host = hosts()[0]!;
    // Live regions are there, empty, before anything is said: what goes in is announced.
    expect([alert(host).textContent, status(host).textContent]).toEqual(['', '']);
    for (const bad of ['', 'linen', 'a@b', 'a b@c.com', 'a@b.c', '<x>@y.com', 'linen@localhost']) {
      await fill(host, bad);
      expect($(host, 'input').getAttribute('aria-invalid')).toBe('true');
      expect(alert(host).textContent).toBe(ADDRESS);
      expect(status(host).textContent).toBe('');
      expect(host.shadowRoot!.activeElement).toBe($(host, 'input'));
      // Said by the field, before the button.
      expect(alert(host).previousElementSibling).toBe($(host, 'input'));
    }
    expect(ctx.submitOptin).not.toHaveBeenCalled();
  });

  it('validEmail accepts ordinary addresses', () => {
    for (const ok of ['ana@linen.example', 'first.last+tag@mail.co.uk', "o'brien@x.ie"])
      expect(validEmail(ok)).toBe(true);
    expect(validEmail('a'.repeat(250) + '@x.com')).toBe(false);
  });

  it('submits once with the consent text; on success the form gives way to the thanks in role=status', async () => {
    let release!: () => void;
    const submitOptin = vi.fn(() => new Promise<void>((r) => (release = r)));
    const { ctx, events } = context({ submitOptin });
    await startPrompts(ctx);
    const host = hosts()[0]!;
    await fill(host, 'linen');
    await fill(host, '  ana@linen.example ');
    // The address message goes as soon as the address is good.
    expect(alert(host).textContent).toBe('');
    expect($(host, 'input').getAttribute('aria-invalid')).toBe('false');
    // A second submit while the first is pending is ignored.
    await fill(host, 'ana@linen.example');
    expect($<HTMLButtonElement>(host, 'form button').disabled).toBe(true);
    expect(submitOptin).toHaveBeenCalledTimes(1);
    expect(submitOptin).toHaveBeenCalledWith({
      email: 'ana@linen.example',
      consentText: OPTIN.content.consent,
      promptId: 'guide',
    });
    release();
    await flush();
    await flush();
    expect(status(host).textContent).toBe('Check your inbox!');
    // The form (its alert with it) and "No thanks" are gone; focus is on what is left: close.
    expect(alert(host)).toBe(null);
    expect($(host, 'form')).toBe(null);
    expect($(host, 'input')).toBe(null);
    expect($(host, 'button.n')).toBe(null);
    expect(host.shadowRoot!.activeElement).toBe($(host, 'button.x'));
    expect(events.find((e) => e.type === 'optin')?.props).toEqual({ prompt: 'guide', email: 'ana@linen.example' });
    expect(types(events)).toContain('prompt_submitted');
    const s = await state(ctx);
    expect(s.optedIn).toBe(true);
    expect(typeof s.done?.guide).toBe('number');
    // Closing after success is not a dismissal, and opted-in visitors never see it again.
    $(host, 'button.x').click();
    await flush();
    expect(types(events)).not.toContain('prompt_dismissed');
    expect(await startPrompts({ ...ctx, sessionId: 's2' })).toBe(null);
  });

  it('a server or network failure gets the failure text in role=alert, and the visitor can retry', async () => {
    const submitOptin = vi
      .fn()
      .mockRejectedValueOnce(Object.assign(new Error('http 503'), { status: 503 }))
      .mockRejectedValueOnce(new Error('network'))
      .mockResolvedValueOnce(undefined);
    const { ctx, events } = context({ submitOptin });
    await startPrompts(ctx);
    const host = hosts()[0]!;
    for (let i = 0; i < 2; i++) {
      await fill(host, 'ana@linen.example');
      expect(alert(host).textContent).toBe(OPTIN.content.error);
      expect(status(host).textContent).toBe('');
      expect($(host, 'input').getAttribute('aria-invalid')).toBe('false');
      expect($<HTMLButtonElement>(host, 'form button').disabled).toBe(false);
    }
    expect(types(events)).not.toContain('optin');
    expect((await state(ctx)).optedIn).toBeUndefined();
    await fill(host, 'ana@linen.example');
    await flush();
    expect(status(host).textContent).toBe(OPTIN.content.success);
    expect(alert(host)).toBe(null);
    expect(submitOptin).toHaveBeenCalledTimes(3);
  });

  it('an address the server refuses (400) gets the address message, not the failure text', async () => {
    const submitOptin = vi.fn().mockRejectedValueOnce(Object.assign(new Error('http 400'), { status: 400 }));
    const { ctx } = context({ submitOptin });
    await startPrompts(ctx);
    const host = hosts()[0]!;
    await fill(host, 'ana@linen.example');
    expect(alert(host).textContent).toBe(ADDRESS);
    expect($(host, 'input').getAttribute('aria-invalid')).toBe('true');
    expect($<HTMLButtonElement>(host, 'form button').disabled).toBe(false);
  });

  it('without configured texts, says so in plain words', async () => {
    const bare = { ...OPTIN, content: { title: 'T', cta: 'Go' } };
    const submitOptin = vi.fn().mockRejectedValueOnce(new Error('network')).mockResolvedValueOnce(undefined);
    const { ctx } = context({ config: config([bare]), submitOptin });
    await startPrompts(ctx);
    const host = hosts()[0]!;
    expect($(host, 'button.n').textContent).toBe('No thanks');
    await fill(host, 'ana@linen.example');
    expect(alert(host).textContent).toBe('Please try again.');
    await fill(host, 'ana@linen.example');
    await flush();
    expect(status(host).textContent).toBe('Thank you!');
  });
});
