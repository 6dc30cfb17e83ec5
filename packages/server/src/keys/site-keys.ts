import { readFileSync } from 'node:fs';
import { safeEqual } from '../identity/device-token.js';
import { StartupError } from '../errors.js';

// The server's secrets: a global admin key and identity secret, and each site's own. A site with its
// own identity secret accepts logins signed with that one only; a site's admin key reaches that site
// only; the global admin key reaches every site.

/** Shorter keys can be guessed or brute-forced offline; `openssl rand -hex 32` gives 64 characters. */
export const MIN_KEY_LENGTH = 32;

export interface SiteKeys {
  adminKey?: string | undefined;
  identitySecret?: string | undefined;
}

export interface KeyRingOptions {
  adminKey?: string | undefined;
  identitySecret?: string | undefined;
  /** By exact site id, as in a keys file: `{ "shop": { "adminKey": "…", "identitySecret": "…" } }`. */
  sites?: Record<string, SiteKeys> | undefined;
  /** By the <SITE> part of CAIRN_SITE_<SITE>_ADMIN_KEY / _IDENTITY_SECRET (see siteEnvStem). */
  envStems?: Record<string, SiteKeys> | undefined;
}

/** Which sites an admin key reaches. */
export type AdminScope = { kind: 'all' } | { kind: 'site'; covers(site: string): boolean };

export interface KeyRing {
  /** Whether any admin key (global or a site's) is set: without one, the admin endpoints are off. */
  readonly adminEnabled: boolean;
  /** The site's own identity secret, else the global one; undefined when identity is off for it. */
  identitySecretFor(site: string): string | undefined;
  /** What a presented admin key reaches, or null when it is no admin key. Every key is compared, in constant time. */
  adminScope(key: string): AdminScope | null;
}

/**
 * A site id as it appears in an environment variable name: upper-cased, every character other than
 * A-Z and 0-9 as `_`. `my-shop` → CAIRN_SITE_MY_SHOP_ADMIN_KEY. Sites that map to one name
 * (`my-shop`, `my_shop`) share its keys; give them a keys file to tell them apart.
 */
export function siteEnvStem(site: string): string {
  return site.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

const ENV_KEY = /^CAIRN_SITE_([A-Z0-9_]+)_(ADMIN_KEY|IDENTITY_SECRET)$/;

/** The CAIRN_SITE_<SITE>_ADMIN_KEY and _IDENTITY_SECRET variables, by <SITE>. Empty ones are unset. */
export function siteKeysFromEnv(env: Record<string, string | undefined>): Record<string, SiteKeys> {
  const out: Record<string, SiteKeys> = {};
  for (const [name, value] of Object.entries(env)) {
    const m = ENV_KEY.exec(name);
    if (!m?.[1] || !value) continue;
    const keys = (out[m[1]] ??= {});
    if (m[2] === 'ADMIN_KEY') keys.adminKey = value;
    else keys.identitySecret = value;
  }
  return out;
}

const SITE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Reads a keys file: `{ "<site>": { "identitySecret": "…", "adminKey": "…" } }`; every problem names its place. */
export function loadKeysFile(path: string): Record<string, SiteKeys> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why =
      e instanceof SyntaxError ? `not valid JSON (${e.message})` : ((e as NodeJS.ErrnoException).code ?? 'unreadable');
    throw new StartupError(`keys file ${path}: ${why}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new StartupError(`keys file ${path}: expected an object of sites, { "<site>": { "adminKey": "…" } }`);
  const out: Record<string, SiteKeys> = {};
  for (const [site, entry] of Object.entries(data)) {
    if (!SITE_ID.test(site)) throw new StartupError(`keys file ${path}: "${site}" is not a site id`);
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new StartupError(`keys file ${path}: "${site}" must be an object with adminKey and/or identitySecret`);
    const keys: SiteKeys = {};
    for (const [field, value] of Object.entries(entry)) {
      if (field !== 'adminKey' && field !== 'identitySecret')
        throw new StartupError(`keys file ${path}: ${site}.${field}: unknown field (adminKey, identitySecret)`);
      if (typeof value !== 'string') throw new StartupError(`keys file ${path}: ${site}.${field}: must be a string`);
      keys[field] = value;
    }
    out[site] = keys;
  }
  return out;
}

function requireLength(name: string, value: string | undefined): void {
  if (value !== undefined && value !== '' && value.length < MIN_KEY_LENGTH)
    throw new StartupError(
      `${name} is ${value.length} characters; it must be at least ${MIN_KEY_LENGTH} (generate one with: openssl rand -hex 32)`,
    );
}

/** Checks a secret that is not part of the ring (the metrics key) against the same length rule. */
export const requireKeyLength = requireLength;

/** Builds the ring; throws StartupError naming the variable of any key under MIN_KEY_LENGTH characters. */
export function createKeyRing(options: KeyRingOptions): KeyRing {
  requireLength('CAIRN_ADMIN_KEY', options.adminKey);
  requireLength('CAIRN_IDENTITY_SECRET', options.identitySecret);
  const sites = new Map(Object.entries(options.sites ?? {}));
  const stems = new Map(Object.entries(options.envStems ?? {}));
  for (const [site, keys] of sites) {
    requireLength(`the admin key of site "${site}" (keys file)`, keys.adminKey);
    requireLength(`the identity secret of site "${site}" (keys file)`, keys.identitySecret);
  }
  for (const [stem, keys] of stems) {
    requireLength(`CAIRN_SITE_${stem}_ADMIN_KEY`, keys.adminKey);
    requireLength(`CAIRN_SITE_${stem}_IDENTITY_SECRET`, keys.identitySecret);
  }

  // Every admin key with what it reaches; the keys file's entries name the exact site.
  const adminKeys: { key: string; scope: AdminScope }[] = [];
  if (options.adminKey) adminKeys.push({ key: options.adminKey, scope: { kind: 'all' } });
  for (const [site, keys] of sites)
    if (keys.adminKey) adminKeys.push({ key: keys.adminKey, scope: { kind: 'site', covers: (s) => s === site } });
  for (const [stem, keys] of stems)
    if (keys.adminKey)
      // A site with a keys-file entry is that entry's alone: a variable meant for a look-alike name never reaches it.
      adminKeys.push({
        key: keys.adminKey,
        scope: { kind: 'site', covers: (s) => siteEnvStem(s) === stem && !sites.has(s) },
      });

  return {
    adminEnabled: adminKeys.length > 0,
    identitySecretFor(site) {
      // A keys-file entry, else the environment's (never for a site the keys file names), else the global secret.
      const own = sites.has(site) ? sites.get(site)?.identitySecret : stems.get(siteEnvStem(site))?.identitySecret;
      return own || options.identitySecret || undefined;
    },
    adminScope(key) {
      let found: AdminScope | null = null;
      // No early exit: how long this takes does not tell which key (if any) matched.
      for (const entry of adminKeys) if (safeEqual(key, entry.key) && !found) found = entry.scope;
      return found;
    },
  };
}
