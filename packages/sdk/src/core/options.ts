import type { Consent, SiteConfig, SiteConfigInput } from '../types.js';

export interface CairnOptions {
  /** The site id (data-site). Without it nothing is sent. */
  site?: string | null;
  /** The sync server's origin (data-server). Without it the SDK works on the device only. */
  server?: string | null;
  /** Default consent (data-consent); else the config's consent.default, else 'granted'. An explicit cairn.consent('granted') is remembered and wins. */
  consent?: Consent | null;
  /** Cookie domain for the device id, e.g. `.shop.com` so that subdomains share it (data-cookie-domain). */
  cookieDomain?: string | null;
  /** Hosts whose referrers are internal navigation (data-site-hosts). Default: the config's, else the page's registrable domain. */
  siteHosts?: string[] | null;
  /** Global Privacy Control counts as denied unless this is false (data-respect-gpc="false") or the config's consent.respectGpc is. */
  respectGpc?: boolean | null;
  /** The site config; else inline #cairn-config, else the cached copy, else fetched from the server. */
  config?: SiteConfig | SiteConfigInput | null;
  /** Where account prompts send the visitor back after login. Default: the current URL. */
  returnUrl?: string;
}

/** The sync server's URL for an API path, with the site in the query (so preflights know the site). */
export const apiUrl = (server: string, site: string, path: string) =>
  server + '/v1/' + path + '?site=' + encodeURIComponent(site);

/** The server's origin without trailing slashes. */
export const serverOf = (options: CairnOptions) => (options.server || '').replace(/\/+$/, '');
