// Acquisition context: where a visit came from (UTMs, ad click ids, referrer), resolved to
// GA4's default channel group. Pure and DOM-free; it never throws.
import type { Channel, Touch } from '../types.js';
import { arr } from '../util/arr.js';
import { CLICK_IDS, EXACT, fill, LABEL, type Cat, type Entry } from './sources.js';

export interface TouchInput {
  url: string;
  referrer?: string;
  /**
   * Hosts whose referrers are internal navigation; their subdomains count too. Default: the
   * page's registrable domain. The page's own host always counts.
   */
  siteHosts?: string[];
  /** Epoch ms; default Date.now(). */
  now?: number;
}

const low = (s: unknown) => (typeof s == 'string' ? s.trim().toLowerCase() : '');
const noWww = (h: string) => h.replace(/^www\./, '');

// Two-label public suffixes: a common second level under a country TLD (co.uk, com.au, co.jp,
// ne.jp, gov.br…), and hosting suffixes where every subdomain is a separate site.
const SUFFIX2 =
  /(^|\.)((co|com|net|org|gov|edu|ac|ne|or|go|gob|mil|nom|ltd|plc|sch|gen)\.[a-z]{2}|myshopify\.com|github\.io|vercel\.app|netlify\.app|pages\.dev|herokuapp\.com|web\.app|blogspot\.com)$/;

/** The registrable domain of a host: www.shop.co.uk → shop.co.uk, a.b.example.com → example.com. IPs come back as they are. */
export function registrableDomain(host: string): string {
  const h = low(host).replace(/:\d*$|\.+$/g, '');
  return /^[\d.]*$|^\[/.test(h)
    ? h
    : h
        .split('.')
        .slice(SUFFIX2.test(h) ? -3 : -2)
        .join('.');
}

/** What a host, app package or source value is: its short source name and category. */
function classify(value: string, app?: boolean): Entry | undefined {
  fill();
  const h = noWww(value);
  const rd = registrableDomain(h);
  // Apps have no subdomain rules: '-' passes neither test below.
  const sub = app ? '-' : h.slice(0, -rd.length - 1);
  // An app's vendor is its package's second segment (com.pinterest, com.facebook.katana).
  const e = LABEL[(app ? h.split('.')[1] : rd.split('.')[0])!];
  return (
    EXACT[h] ||
    // Webmail lives on mail./webmail./email. subdomains (mail.yahoo.com, us-mg5.mail.yahoo.com).
    (/(^|\.)(web|e)?mail$/.test(sub)
      ? [e?.[0] ?? h, 'm']
      : // Restricted vendors (google, yahoo…) count only on their bare, www., m. and search hosts
        // (not docs.google.com), and only by their exact app packages.
        !e?.[2] || /^(|www|m)$|search$|suche$/.test(sub)
        ? e
        : undefined)
  );
}

// GA4's rules after Direct, Cross-network and the paid ones, in GA4's order: [channel, source
// category, medium rule, source rule]. A paid medium turns the Organic rows into Paid ones.
const E = /^e[-_ ]?mail$/; // email, e-mail, e_mail, e mail
const RULES: [Channel, Cat | '', RegExp, RegExp?][] = [
  ['Organic Shopping', 'p', /$./],
  ['Organic Social', 'o', /^(social([- ](network|media))?|sm)$/],
  ['Organic Video', 'v', /video/],
  ['Organic Search', 's', /^organic$/],
  ['Referral', '', /^(referral|app|link)$/],
  ['Email', '', E, E],
  ['Affiliates', '', /^affiliate$/],
  ['Audio', '', /^audio$/],
  ['SMS', '', /^sms$/, /^sms$/],
  ['Mobile Push Notifications', '', /push$|mobile|notification/, /^firebase$/],
];

/**
 * GA4's default channel group, its rules evaluated in GA4's documented order. Case-insensitive;
 * the source lists match short names, aliases and hosts alike (facebook, fb, l.facebook.com).
 * Webmail ('m') is our addition: GA4 has no such list, and its names (yahoo, aol) are on GA4's
 * search list, so a webmail referrer is Email here.
 */
export function channelOf(t: { source: string; medium: string; campaign?: string }, known?: string): Channel {
  const s = low(t?.source);
  const m = low(t?.medium);
  const c = low(t?.campaign);
  // A shopping campaign makes any source a shopping one. `known`: the category resolveTouch found
  // for a referrer ('-' for none): an app's package name is no host to look up again.
  const cat = /^(.*(([^a-df-z]|^)shop|shopping).*)$/.test(c) ? 'p' : (known ?? classify(s)?.[1]);
  const paid = /^(.*cp.*|ppc|retargeting|paid.*)$/.test(m);
  const p = RULES.find((r) => r[1] == cat);
  return s == '(direct)' && /^\((none|not set)\)$/.test(m)
    ? 'Direct'
    : c.includes('cross-network')
      ? 'Cross-network'
      : paid && p
        ? (p[0].replace('Organic', 'Paid') as Channel)
        : /^(display|banner|expandable|interstitial|cpm)$/.test(m)
          ? 'Display'
          : paid
            ? 'Paid Other'
            : RULES.find((r) => r[1] == cat || r[2].test(m) || r[3]?.test(s))?.[0] || 'Unassigned';
}

/** A URL, or undefined. No referrer (a direct visit) is no URL, without throwing to find out. */
const parse = (s: unknown, base?: string) => {
  if (typeof s != 'string' || !(s || base)) return;
  try {
    return new URL(s.slice(0, 4096), base);
  } catch {}
};

const MEDIUM: Record<Cat, string> = { s: 'organic', o: 'social', v: 'video', p: 'referral', m: 'email' };

/**
 * The acquisition context of a page load: UTMs first, then an ad click id, then the referrer.
 * Returns null for internal navigation (a referrer on siteHosts with no UTM or click id).
 */
export function resolveTouch(input: TouchInput): Touch | null {
  try {
    const { url, referrer, siteHosts, now } = input || ({} as TouchInput);
    const u = parse(url, 'http://localhost/');
    // Trimmed, without control characters, capped.
    const get = (k: string, max = 200) =>
      u?.searchParams
        .get(k)
        // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
        ?.replace(/[\0-\x1f\x7f]/g, '')
        .trim()
        .slice(0, max);

    // fbclid rides on every outbound Facebook link, organic ones included: it is not paid.
    const ck = CLICK_IDS.find(([p]) => get(p));

    // The referrer: web pages, and Android apps (android-app://com.pinterest/).
    const r = parse(referrer);
    const app = r?.protocol == 'android-app:';
    const rh = app || /^https?:$/.test(r?.protocol!) ? r!.hostname.toLowerCase().replace(/\.+$/, '').slice(0, 253) : '';
    const own = u?.hostname || '';
    const hosts = arr(siteHosts)
      .map((h) => low(h).replace(/^\.*(www\.)?|\.*(:\d*)?$/g, ''))
      .filter(Boolean);
    const internal =
      !app && !!rh && [...(hosts[0] ? hosts : [registrableDomain(own)]), own].some((h) => ('.' + rh).endsWith('.' + h));
    const outside = rh && !internal;

    const [s0, m0, campaign, term, content, id] = 'source medium campaign term content id'
      .split(' ')
      .map((k) => get('utm_' + k));
    const s = low(s0);
    const tagged = s || m0 || campaign || id;
    const [source, medium, cat]: (string | undefined)[] = tagged
      ? // Explicit UTMs win; any of source, medium, campaign or id tags the visit (term or content
        // alone do not). A missing source or medium comes from the click id when UTMs name neither
        // (gclid + utm_campaign is google / cpc), else it is '(not set)' as in GA4.
        [s ? (classify(s)?.[0] ?? s) : (ck?.[1] ?? '(not set)'), low(m0) || (!s && ck?.[2]) || '(not set)']
      : // A paid click id; or fbclid without an outside referrer (in-app browsers often send none).
        ck && (ck[2] == 'cpc' || !outside)
        ? ck.slice(1)
        : outside
          ? ((e) => [e?.[0] ?? noWww(rh), e ? MEDIUM[e[1]] : 'referral', e?.[1] || '-'])(classify(rh, app))
          : internal
            ? []
            : ['(direct)', '(none)'];
    if (!source) return null;
    const t: Record<string, unknown> = {
      source: source.slice(0, 200),
      medium,
      campaign,
      term: tagged && term,
      content: tagged && content,
      id,
      clickId: ck && { param: ck[0], value: get(ck[0], 500) },
      referrerHost: rh,
      landingPath: (u?.pathname || '/').slice(0, 2000),
      at: now! >= 0 && now! < 1e15 ? Math.floor(now!) : Date.now(),
    };
    t.channel = channelOf(t as Touch, cat);
    for (const k in t) if (!t[k] && t[k] !== 0) delete t[k];
    return t as Touch;
  } catch {
    return null;
  }
}
