import { z } from 'zod';
import { CHANNELS } from './touch.js';

// The one site-config schema. The server and CLI validate with it; the SDK uses only its types
// (type imports vanish from the bundle), and the JSON Schema for editors is generated from it.

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, "-" and "_" only');

/** "/pattern/flags" is a regex; anything else is an exact, case-insensitive value. */
const REGEX_LITERAL = /^\/(.+)\/([gimsuy]*)$/s;

const matchValue = z
  .string()
  .min(1)
  .max(200)
  .superRefine((value, ctx) => {
    const m = REGEX_LITERAL.exec(value);
    if (!m) return;
    try {
      new RegExp(m[1] ?? '', m[2]);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `invalid regex ${value}: ${(e as Error).message}` });
    }
  });

/** An exact value, a list of values (any matches), or "/regex/i". */
export const matcherSchema = z.union([matchValue, z.array(matchValue).min(1).max(50)]);
export type Matcher = z.infer<typeof matcherSchema>;

/** A CRM trait key, as `PUT /v1/users/:id/traits` takes it. */
export const TRAIT_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const traitKey = z.string().regex(TRAIT_KEY, 'a trait key is a letter, then up to 63 letters, digits and "_"');

/**
 * CRM traits a person must have, all of them: `{ "tier": "vip", "lapsed": false, "orders": 3 }`. A
 * string is a Matcher (an exact, case-insensitive value, or "/regex/"); a list matches any of its
 * values; a number or boolean matches that value exactly.
 */
export const traitsMatcherSchema = z
  .record(
    traitKey,
    z.union([
      matchValue,
      z
        .array(z.union([matchValue, z.number().finite(), z.boolean()]))
        .min(1)
        .max(50),
      z.number().finite(),
      z.boolean(),
    ]),
  )
  .refine((t) => Object.keys(t).length > 0 && Object.keys(t).length <= 20, 'name 1 to 20 traits');
export type TraitsMatcher = z.infer<typeof traitsMatcherSchema>;

const channelMatcher = z.union([
  z.enum(CHANNELS),
  z.array(z.enum(CHANNELS)).min(1),
  matchValue.refine((v) => REGEX_LITERAL.test(v), 'a channel is one of GA4\'s channel names, or "/regex/"'),
]);

/** A URL path glob: `*` matches within a segment, `**` across segments. */
/**
 * The share of a variant's or prompt's matching audience kept on the default (no variant, no
 * prompt) to measure it against: 0 to 0.5, 0 turns the holdout off.
 */
const holdoutSchema = z.number().min(0, 'must be at least 0').max(0.5, 'must be at most 0.5');

/** The cookie names the SDK's script sets itself: a server cookie of the same name would clash. */
const SCRIPT_COOKIES = ['cairn_id', 'cairn_tk', 'cairn_consent'];

const serverCookieSchema = z
  .object({
    /**
     * Optional: the registrable domain the sync server's host must belong to, with or without a
     * leading dot (".shop.example"); a request to any other host gets no cookie. The cookie itself is
     * host-only on the sync host (no Domain attribute, `__Host-` name when Secure): it is never shared
     * with, nor shadowed from, the store's other subdomains.
     */
    domain: z
      .string()
      .max(253)
      .regex(
        /^\.?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
        'a domain such as ".shop.example" (letters, digits, "-", at least two labels)',
      )
      .optional(),
    /** The cookie's name (default "cairn_sid"); the server adds the `__Host-` prefix when it is Secure. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1 to 64 letters, digits, "-" and "_"')
      .refine((n) => !SCRIPT_COOKIES.includes(n), `may not be one the SDK sets itself (${SCRIPT_COOKIES.join(', ')})`)
      .refine((n) => !n.startsWith('__'), 'may not start with "__": the server adds the __Host- prefix itself')
      .default('cairn_sid'),
  })
  .strict();

const pathGlob = z.string().min(1).max(300).startsWith('/', 'a path glob starts with "/"');

/** http(s) or relative only: `javascript:` and `data:` URLs are refused. */
export const safeUrlSchema = z
  .string()
  .max(2000)
  .refine((u) => isSafeUrl(u), 'only http(s) or relative URLs are allowed');

export function isSafeUrl(url: string): boolean {
  // Strip what browsers ignore before the scheme (controls, whitespace) before judging it.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  const s = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s);
  return !scheme || /^https?$/i.test(scheme[1] ?? '');
}

export const slotActionSchema = z
  .object({
    text: z.string().max(2000).optional(),
    src: safeUrlSchema.optional(),
    srcset: z
      .string()
      .max(4000)
      .refine(
        (s) => s.split(',').every((c) => isSafeUrl(c.trim().split(/\s+/)[0] ?? '')),
        'srcset URLs must be http(s) or relative',
      )
      .optional(),
    alt: z.string().max(500).optional(),
    href: safeUrlSchema.optional(),
    hidden: z.boolean().optional(),
    addClass: z.union([z.string().regex(/^[\w-]+$/), z.array(z.string().regex(/^[\w-]+$/)).max(10)]).optional(),
  })
  .strict();
export type SlotAction = z.infer<typeof slotActionSchema>;

export const variantWhenSchema = z
  .object({
    channel: channelMatcher.optional(),
    source: matcherSchema.optional(),
    medium: matcherSchema.optional(),
    campaign: matcherSchema.optional(),
    content: matcherSchema.optional(),
    /** Which touch the conditions read: this visit's (default), the first ever, or the last non-direct. */
    touch: z.enum(['current', 'first', 'last']).default('current'),
    device: z.enum(['mobile', 'desktop']).optional(),
    path: pathGlob.optional(),
    /**
     * The person's CRM traits, as the device holds them once the visitor is identified. A variant
     * with traits never applies before they are on the device: from the page after login on.
     */
    traits: traitsMatcherSchema.optional(),
  })
  .strict();

export const variantSchema = z
  .object({
    id,
    name: z.string().min(1).max(200),
    when: variantWhenSchema.default({ touch: 'current' }),
    slots: z
      .record(id, slotActionSchema)
      .refine((s) => Object.keys(s).length > 0, 'a variant changes at least one slot'),
    /** Higher wins when several variants match. Ties go to the one declared first. */
    priority: z.number().int().min(-1000).max(1000).default(0),
    /** This variant's holdout; left out, `measurement.holdout` applies. */
    holdout: holdoutSchema.optional(),
  })
  .strict();
export type Variant = z.infer<typeof variantSchema>;

export const promptContentSchema = z
  .object({
    title: z.string().min(1).max(200),
    body: z.string().max(1000).optional(),
    cta: z.string().min(1).max(80),
    /** Shown beside the opt-in form and stored with the opt-in as the consent proof. */
    consent: z.string().max(1000).optional(),
    loginUrl: safeUrlSchema.optional(),
    providers: z
      .array(z.object({ name: z.string().min(1).max(40), url: safeUrlSchema }).strict())
      .max(6)
      .optional(),
    /** BCP 47 tag for the prompt's `lang`. */
    locale: z.string().max(35).optional(),
    success: z.string().max(300).optional(),
    error: z.string().max(300).optional(),
    placeholder: z.string().max(100).optional(),
    dismiss: z.string().max(40).optional(),
  })
  .strict();
export type PromptContent = z.infer<typeof promptContentSchema>;

export const promptSchema = z
  .object({
    id,
    kind: z.enum(['account', 'optin']),
    trigger: z
      .object({
        afterPages: z.number().int().min(1).max(100).default(3),
        scope: z.enum(['session', 'lifetime']).default('session'),
      })
      .strict()
      .default({ afterPages: 3, scope: 'session' }),
    audience: z
      .object({
        identified: z.boolean().default(false),
        optedIn: z.boolean().default(false),
        channels: z.array(z.enum(CHANNELS)).optional(),
        sources: z.array(z.string().min(1).max(100)).optional(),
        includePaths: z.array(pathGlob).optional(),
        excludePaths: z.array(pathGlob).default(['/cart', '/cart/**', '/checkout', '/checkout/**']),
        /** Only people with these CRM traits (so only identified ones). */
        traits: traitsMatcherSchema.optional(),
      })
      .strict()
      .default({ identified: false, optedIn: false, excludePaths: ['/cart', '/cart/**', '/checkout', '/checkout/**'] }),
    display: z
      .object({
        desktop: z.enum(['popin', 'inline']).default('popin'),
        /** Mobile never gets an overlay. */
        mobile: z.literal('inline').default('inline'),
      })
      .strict()
      .default({ desktop: 'popin', mobile: 'inline' }),
    /** Where the inline prompt goes; else `[data-cairn-inline]`, else the end of `<main>`. */
    inlineAnchor: z.string().min(1).max(200).optional(),
    snoozeDays: z.number().min(0).max(365).default(7),
    content: promptContentSchema,
    /** Content overrides by touch source or channel, e.g. `{ "pinterest": { "title": "…" } }`. */
    contentBySource: z.record(z.string().min(1).max(100), promptContentSchema.partial()).optional(),
    /** This prompt's holdout; left out, `measurement.holdout` applies. */
    holdout: holdoutSchema.optional(),
  })
  .strict();
export type Prompt = z.infer<typeof promptSchema>;

/** "90s", "30m", "2h", "7d": a duration, read by `parseDuration`. */
const DURATION = /^(0|[1-9][0-9]{0,5})(s|m|h|d)$/;
const DURATION_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a duration that the schema accepted ("2h" → 7,200,000); NaN for anything else. */
export function parseDuration(value: string): number {
  const m = DURATION.exec(value);
  return m ? Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS] : Number.NaN;
}

const duration = (min: number, max: number, what: string) =>
  z
    .string()
    // abort: a malformed duration gets the one message that says so.
    .regex(DURATION, { message: 'a duration such as "90s", "30m", "2h" or "7d"', abort: true })
    .refine((v) => parseDuration(v) >= min && parseDuration(v) <= max, what);

/** https, or http to a loopback host (a receiver on this machine: development and tests). */
export function isWebhookUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  if (u.username || u.password) return false;
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}

export const TRIGGER_EVENTS = ['browse_abandoned', 'cart_abandoned'] as const;
export const TRIGGER_CHANNELS = ['email', 'sms'] as const;

/**
 * A behavioural trigger: when a person's episode (`on`) stays unresolved for `after`, the sync server
 * POSTs a signed webhook to `url`, once.
 * - `browse_abandoned`: product views, and no `add_to_cart` nor purchase within `after` of the last one.
 * - `cart_abandoned`: an `add_to_cart`, and no purchase nor `cart_emptied` within `after` of the last one.
 */
export const triggerSchema = z
  .object({
    id,
    on: z.enum(TRIGGER_EVENTS),
    /** How long the episode must stay unresolved, from its last qualifying event: 1 s to 30 days. */
    after: duration(1000, 30 * 86_400_000, 'between "1s" and "30d"'),
    /** browse_abandoned: how many distinct products the person viewed in the episode, at least. */
    minProductViews: z.number().int().min(1).max(50).default(1),
    /** The channels the store may use; the person must be reachable on at least one. */
    channels: z.array(z.enum(TRIGGER_CHANNELS)).min(1).max(2),
    url: z
      .string()
      .max(2000)
      .refine(isWebhookUrl, 'an https URL (http only to localhost, 127.0.0.1 or [::1]), without credentials'),
    /** No delivery to a person within this long of their last delivery of any trigger: 0s to 365 days. */
    cooldown: duration(0, 365 * 86_400_000, 'between "0s" and "365d"').default('1d'),
    /** Only people with these CRM traits. */
    where: z.object({ traits: traitsMatcherSchema.optional() }).strict().optional(),
  })
  .strict();
export type Trigger = z.infer<typeof triggerSchema>;

export const siteConfigSchema = z
  .object({
    /** For editors: a URL, or a path relative to the file, of the JSON Schema. Never embedded in sdk.js. */
    $schema: z
      .string()
      .min(1)
      .max(2048)
      .refine(
        // Printable ASCII without the characters a URL may not hold as they are.
        (v) => /^[\x21-\x7e]+$/.test(v) && !/[<>"{}|\\^`]/.test(v) && URL.canParse(v, 'https://relative.invalid/'),
        'expected the URL (or relative path) of the JSON Schema',
      )
      .optional(),
    /** The site id, as in `data-site` and `?site=`. */
    site: id,
    /** Origins allowed to call the sync server from a browser (CORS). */
    origins: z
      .array(z.url({ protocol: /^https?$/ }))
      .max(50)
      .default([]),
    /** Hosts whose referrers are internal navigation. Default: the page's registrable domain. */
    siteHosts: z.array(z.string().min(1).max(253)).max(50).optional(),
    /** Media query for the desktop form factor; everything else is mobile. */
    desktopQuery: z.string().max(200).default('(min-width: 768px) and (pointer: fine)'),
    consent: z
      .object({
        default: z.enum(['granted', 'denied', 'pending']).default('granted'),
        /** Treat `navigator.globalPrivacyControl` as a denial. */
        respectGpc: z.boolean().default(true),
      })
      .strict()
      .default({ default: 'granted', respectGpc: true }),
    variants: z.array(variantSchema).max(200).default([]),
    prompts: z.array(promptSchema).max(50).default([]),
    /** `holdout`: the site-wide default share held out of every variant and prompt (0.1). */
    measurement: z
      .object({ holdout: holdoutSchema.default(0.1) })
      .strict()
      .default({ holdout: 0.1 }),
    /**
     * `confirmation: "required"`: the reports count only the orders the shop's backend confirmed
     * (POST /v1/orders/confirm with a signed token), with the value it signed. Left out: "off",
     * orders count as the browsers report them.
     */
    orders: z
      .object({ confirmation: z.enum(['off', 'required']) })
      .strict()
      .optional(),
    /**
     * `serverCookie`: the sync server sets an HttpOnly, host-only cookie on its own host (which must
     * belong to `domain` when given, e.g. ".shop.example"), bound to the device, from which a browser
     * whose script storage was wiped (Safari's ITP) gets its device back. Left out: off.
     */
    identity: z.object({ serverCookie: serverCookieSchema.optional() }).strict().optional(),
    /** Behavioural triggers: signed webhooks to the store's email and SMS tools. */
    triggers: z.array(triggerSchema).max(20).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const [key, list] of [
      ['variants', cfg.variants],
      ['prompts', cfg.prompts],
      ['triggers', cfg.triggers],
    ] as const) {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item.id))
          ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${item.id}"` });
        seen.add(item.id);
      });
    }
  });

/** A validated config, with every default filled in: what the server serves. */
export type SiteConfig = z.output<typeof siteConfigSchema>;
/** What a marketer writes: defaults may be left out. */
export type SiteConfigInput = z.input<typeof siteConfigSchema>;

export type ConfigIssue = { path: string; message: string };

/** Validates a config; issues carry a dotted path such as `variants.2.slots.hero-title.href`. */
export function validateSiteConfig(
  input: unknown,
): { ok: true; config: SiteConfig } | { ok: false; issues: ConfigIssue[] } {
  const r = siteConfigSchema.safeParse(input);
  if (r.success) return { ok: true, config: r.data };
  return {
    ok: false,
    issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })),
  };
}
