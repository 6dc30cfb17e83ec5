// Acquisition context: where a visit came from (UTMs, ad click ids, referrer), resolved to
// GA4's default channel group. Pure and DOM-free; it never throws.
import type { Channel, Touch } from '../types';
import { CLICK_IDS, EXACT, LABEL, type Cat, type Entry } from './sources';

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

const MAX_URL = 4096;
const MAX_FIELD = 200;

const low = (s: unknown) => (typeof s == 'string' ? s.trim().toLowerCase() : '');
const noWww = (h: string) => h.replace(/^www\./, '');

// Two-label public suffixes: a common second level under a country TLD (co.uk, com.au, co.jp,
// ne.jp, gov.br…), and hosting suffixes where every subdomain is a separate site.
const SUFFIX2 =
  /^((co|com|net|org|gov|edu|ac|ne|or|go|gob|mil|nom|ltd|plc|sch|gen)\.[a-z]{2}|myshopify\.com|github\.io|vercel\.app|netlify\.app|pages\.dev|herokuapp\.com|web\.app|blogspot\.com)$/;

/** The registrable domain of a host: www.shop.co.uk → shop.co.uk, a.b.example.com → example.com. IPs come back as they are. */
export function registrableDomain(host: string): string {
  const h = low(host).replace(/:\d*$|\.+$/g, '');
  const p = h.split('.');
  return /^[\d.]*$|^\[/.test(h) ? h : p.slice(SUFFIX2.test(p.slice(-2).join('.')) ? -3 : -2).join('.');
}

/** What a host, app package or source value is: its short source name and category. */
function classify(value: string, app?: boolean): Entry | undefined {
  const h = noWww(value);
  const x = EXACT[h];
  if (x) return x;
  if (app) {
    // An app's vendor is its package's second segment (com.pinterest, com.facebook.katana).
    // Restricted vendors (google, yahoo…) ship many apps: only their exact packages count.
    const e = LABEL[h.split('.')[1]!];
    return e?.[2] ? undefined : e;
  }
  const rd = registrableDomain(h);
  const sub = h.slice(0, -rd.length - 1);
  const e = LABEL[rd.split('.')[0]!];
  // Webmail lives on mail./webmail./email. subdomains (mail.yahoo.com, us-mg5.mail.yahoo.com).
  if (/(^|\.)(web|e)?mail$/.test(sub)) return [e?.[0] ?? h, 'm'];
  // Restricted domains count only on their bare, www., m. and search hosts: not docs.google.com.
  return !e?.[2] || /^(|www|m)$|search$|suche$/.test(sub) ? e : undefined;
}

const PAID = /^(.*cp.*|ppc|retargeting|paid.*)$/;
const SHOP_CAMPAIGN = /^(.*(([^a-df-z]|^)shop|shopping).*)$/;
const EMAIL = /^e[-_ ]?mail$/; // email, e-mail, e_mail, e mail

/**
 * GA4's default channel group, its rules evaluated in GA4's documented order. Case-insensitive;
 * the source lists match short names, aliases and hosts alike (facebook, fb, l.facebook.com).
 */
export function channelOf(t: { source: string; medium: string; campaign?: string }): Channel {
  const s = low(t?.source);
  const m = low(t?.medium);
  const c = low(t?.campaign);
  const k = s ? classify(s)?.[1] : undefined;
  const paid = PAID.test(m);
  const shop = k == 'p' || SHOP_CAMPAIGN.test(c);
  return s == '(direct)' && (m == '(none)' || m == '(not set)')
    ? 'Direct'
    : c.includes('cross-network')
      ? 'Cross-network'
      : paid && shop
        ? 'Paid Shopping'
        : paid && k == 's'
          ? 'Paid Search'
          : paid && k == 'o'
            ? 'Paid Social'
            : paid && k == 'v'
              ? 'Paid Video'
              : /^(display|banner|expandable|interstitial|cpm)$/.test(m)
                ? 'Display'
                : paid
                  ? 'Paid Other'
                  : shop
                    ? 'Organic Shopping'
                    : k == 'o' || /^(social([- ](network|media))?|sm)$/.test(m)
                      ? 'Organic Social'
                      : k == 'v' || m.includes('video')
                        ? 'Organic Video'
                        : k == 's' || m == 'organic'
                          ? 'Organic Search'
                          : /^(referral|app|link)$/.test(m)
                            ? 'Referral'
                            : EMAIL.test(s) || EMAIL.test(m)
                              ? 'Email'
                              : m == 'affiliate'
                                ? 'Affiliates'
                                : m == 'audio'
                                  ? 'Audio'
                                  : s == 'sms' || m == 'sms'
                                    ? 'SMS'
                                    : /push$|mobile|notification/.test(m) || s == 'firebase'
                                      ? 'Mobile Push Notifications'
                                      : 'Unassigned';
}

function parse(s: unknown, base?: string): URL | undefined {
  try {
    return new URL(typeof s == 'string' ? s.slice(0, MAX_URL) : '', base);
  } catch {}
}

const MEDIUM: Record<Cat, string> = { s: 'organic', o: 'social', v: 'video', p: 'referral', m: 'email' };

/**
 * The acquisition context of a page load: UTMs first, then an ad click id, then the referrer.
 * Returns null for internal navigation (a referrer on siteHosts with no UTM or click id).
 */
export function resolveTouch(input: TouchInput): Touch | null {
  try {
    const { url, referrer, siteHosts, now } = input || ({} as TouchInput);
    const u = parse(url, 'http://localhost/');
    const q = u ? u.searchParams : new URLSearchParams();
    // Trimmed, without control characters, capped; undefined when empty.
    const get = (k: string, max = MAX_FIELD) => q.get(k)?.replace(/[\0-\x1f\x7f]/g, '').trim().slice(0, max) || undefined;

    // fbclid rides on every outbound Facebook link, organic ones included: it is not paid.
    const ck = CLICK_IDS.find(([p]) => get(p));
    const clickSource = ck?.[1];
    const clickMedium = ck && (ck[0] == 'fbclid' ? 'social' : 'cpc');

    // The referrer: web pages, and Android apps (android-app://com.pinterest/).
    const r = parse(referrer);
    const app = r?.protocol == 'android-app:';
    const rh = r && (app || /^https?:$/.test(r.protocol)) ? r.hostname.toLowerCase().replace(/\.+$/, '').slice(0, 253) : '';
    const own = u?.hostname || '';
    const hosts = (Array.isArray(siteHosts) ? siteHosts : []).map((h) => low(h).replace(/^\.*(www\.)?|\.*(:\d*)?$/g, '')).filter(Boolean);
    const internal = !app && !!rh && [...(hosts[0] ? hosts : [registrableDomain(own)]), own].some((h) => rh == h || rh.endsWith('.' + h));
    const outside = rh && !internal;

    const [s0, m0, campaign, term, content, id] = ['source', 'medium', 'campaign', 'term', 'content', 'id'].map((k) => get('utm_' + k));
    const s = low(s0);
    const tagged = s || m0 || campaign || id;
    let source = '(direct)';
    let medium = '(none)';
    let cat: Cat | undefined;
    if (tagged) {
      // Explicit UTMs win; any of source, medium, campaign or id tags the visit (term or content
      // alone do not). A missing source or medium comes from the click id when UTMs name neither
      // (gclid + utm_campaign is google / cpc), else it is '(not set)' as in GA4.
      source = s ? (classify(s)?.[0] ?? s) : (clickSource ?? '(not set)');
      medium = low(m0) || (!s && clickMedium) || '(not set)';
    } else if (ck && (clickMedium == 'cpc' || !outside)) {
      // A paid click id; or fbclid without an outside referrer (in-app browsers often send none).
      source = clickSource!;
      medium = clickMedium!;
    } else if (outside) {
      const e = classify(rh, app);
      cat = e?.[1];
      source = e?.[0] ?? noWww(rh);
      medium = cat ? MEDIUM[cat] : 'referral';
    } else if (internal) return null;
    source = source.slice(0, MAX_FIELD);
    const t: Record<string, unknown> = {
      source,
      medium,
      campaign,
      term: tagged && term,
      content: tagged && content,
      id,
      // Webmail is our addition to GA4's referrer handling. Its names (yahoo, aol) are on GA4's
      // search list, so its channel is set here, not looked up.
      channel: cat == 'm' ? 'Email' : channelOf({ source, medium, campaign }),
      clickId: ck && { param: ck[0], value: get(ck[0], 500) },
      referrerHost: rh,
      landingPath: (u?.pathname || '/').slice(0, 2000),
      at: typeof now == 'number' && now >= 0 && now < 1e15 ? Math.floor(now) : Date.now(),
    };
    for (const k in t) if (!t[k] && t[k] !== 0) delete t[k];
    return t as Touch;
  } catch {
    return null;
  }
}
