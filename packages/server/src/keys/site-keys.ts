import { readFileSync } from 'node:fs';
import { safeEqual } from '../identity/device-token.js';
import { StartupError } from '../errors.js';

// The server's secrets: a global admin key, identity secret, backend key and webhook secret, and each
// site's own. A site with its own identity secret accepts logins signed with that one only; a site's
// admin key reaches that site only; the global admin key reaches every site. A backend key reaches
// the traits endpoints only (PUT/PATCH/DELETE/GET /v1/users/:id/traits), of its site or of every
// site; a webhook secret signs the site's trigger webhooks.

/** Shorter keys can be guessed or brute-forced offline; `openssl rand -hex 32` gives 64 characters. */
export const MIN_KEY_LENGTH = 32;
/**
 * A key of few different characters (`xxxx…`, `abab…`, a repeated word) is a placeholder, not a
 * secret. A random hex key of 32 characters has 8 or fewer different ones about once in 10^11.
 */
export const MIN_KEY_DISTINCT = 9;

export interface SiteKeys {
  adminKey?: string | undefined;
  identitySecret?: string | undefined;
  /** For the store's backend: the traits endpoints of the site, nothing else. */
  backendKey?: string | undefined;
  /** Signs the site's trigger webhooks (Cairn-Signature). */
  webhookSecret?: string | undefined;
}

/** Each key's field in a keys file, its variable's suffix, and its name in messages. */
const KEY_FIELDS = [
  ['adminKey', 'ADMIN_KEY', 'admin key'],
  ['identitySecret', 'IDENTITY_SECRET', 'identity secret'],
  ['backendKey', 'BACKEND_KEY', 'backend key'],
  ['webhookSecret', 'WEBHOOK_SECRET', 'webhook secret'],
] as const satisfies readonly (readonly [keyof SiteKeys, string, string])[];
type KeyField = (typeof KEY_FIELDS)[number][0];

export interface KeyRingOptions {
  adminKey?: string | undefined;
  identitySecret?: string | undefined;
  /** CAIRN_BACKEND_KEY: the traits endpoints of every site. */
  backendKey?: string | undefined;
  /** CAIRN_WEBHOOK_SECRET: signs the webhooks of sites without their own. */
  webhookSecret?: string | undefined;
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
  /** Whether any backend key is set. */
  readonly backendEnabled: boolean;
  /** Which sites' traits a presented backend key reaches, or null when it is no backend key (constant time). */
  backendScope(key: string): AdminScope | null;
  /** The site's own webhook secret, else the global one; undefined when the site has none (no triggers then). */
  webhookSecretFor(site: string): string | undefined;
}

/**
 * A site id as it appears in an environment variable name: upper-cased, every character other than
 * A-Z and 0-9 as `_`. `my-shop` → CAIRN_SITE_MY_SHOP_ADMIN_KEY. Sites that map to one name
 * (`my-shop`, `my_shop`) share its keys; give them a keys file to tell them apart.
 */
export function siteEnvStem(site: string): string {
  return site.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

const ENV_KEY = /^CAIRN_SITE_([A-Z0-9_]+)_(ADMIN_KEY|IDENTITY_SECRET|BACKEND_KEY|WEBHOOK_SECRET)$/;

/** The CAIRN_SITE_<SITE>_ADMIN_KEY, _IDENTITY_SECRET, _BACKEND_KEY and _WEBHOOK_SECRET variables, by <SITE>. Empty ones are unset. */
export function siteKeysFromEnv(env: Record<string, string | undefined>): Record<string, SiteKeys> {
  const out: Record<string, SiteKeys> = {};
  for (const [name, value] of Object.entries(env)) {
    const m = ENV_KEY.exec(name);
    if (!m?.[1] || !value) continue;
    const field = KEY_FIELDS.find((f) => f[1] === m[2]);
    if (field) (out[m[1]] ??= {})[field[0]] = value;
  }
  return out;
}

const SITE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Reads a keys file: `{ "<site>": { "identitySecret": "…", "adminKey": "…", "backendKey": "…",
 * "webhookSecret": "…" } }`; every problem names its place.
 */
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
      throw new StartupError(
        `keys file ${path}: "${site}" must be an object with adminKey, identitySecret, backendKey and/or webhookSecret`,
      );
    const keys: SiteKeys = {};
    for (const [field, value] of Object.entries(entry)) {
      const known = KEY_FIELDS.find((f) => f[0] === field);
      if (!known)
        throw new StartupError(
          `keys file ${path}: ${site}.${field}: unknown field (${KEY_FIELDS.map((f) => f[0]).join(', ')})`,
        );
      if (typeof value !== 'string') throw new StartupError(`keys file ${path}: ${site}.${field}: must be a string`);
      keys[known[0]] = value;
    }
    out[site] = keys;
  }
  return out;
}

function requireLength(name: string, value: string | undefined): void {
  if (value === undefined || value === '') return;
  if (value.length < MIN_KEY_LENGTH)
    throw new StartupError(
      `${name} is ${value.length} characters; it must be at least ${MIN_KEY_LENGTH} (generate one with: openssl rand -hex 32)`,
    );
  const distinct = new Set(value).size;
  if (distinct < MIN_KEY_DISTINCT)
    throw new StartupError(
      `${name} has only ${distinct} different characters, as a placeholder does; it must have at least ${MIN_KEY_DISTINCT} (generate one with: openssl rand -hex 32)`,
    );
}

/**
 * Why a site's triggers cannot be saved: no secret to sign their webhooks with. Names every place
 * the secret can come from.
 */
export function missingWebhookSecret(site: string): string {
  return (
    `site "${site}" has triggers but no webhook secret to sign them: set CAIRN_WEBHOOK_SECRET, ` +
    `CAIRN_SITE_${siteEnvStem(site)}_WEBHOOK_SECRET or the keys file's "webhookSecret" for it, then restart the server`
  );
}

/** Checks a secret that is not part of the ring (the metrics key) against the same length rule. */
export const requireKeyLength = requireLength;

/** Builds the ring; throws StartupError naming the variable of any key under MIN_KEY_LENGTH characters. */
export function createKeyRing(options: KeyRingOptions): KeyRing {
  requireLength('CAIRN_ADMIN_KEY', options.adminKey);
  requireLength('CAIRN_IDENTITY_SECRET', options.identitySecret);
  requireLength('CAIRN_BACKEND_KEY', options.backendKey);
  requireLength('CAIRN_WEBHOOK_SECRET', options.webhookSecret);
  const sites = new Map(Object.entries(options.sites ?? {}));
  const stems = new Map(Object.entries(options.envStems ?? {}));
  for (const [site, keys] of sites)
    for (const [field, , name] of KEY_FIELDS) requireLength(`the ${name} of site "${site}" (keys file)`, keys[field]);
  for (const [stem, keys] of stems)
    for (const [field, suffix] of KEY_FIELDS) requireLength(`CAIRN_SITE_${stem}_${suffix}`, keys[field]);

  /** Every key of one kind with what it reaches; the keys file's entries name the exact site. */
  const scoped = (field: 'adminKey' | 'backendKey', global: string | undefined) => {
    const out: { key: string; scope: AdminScope }[] = [];
    if (global) out.push({ key: global, scope: { kind: 'all' } });
    for (const [site, keys] of sites) {
      const key = keys[field];
      if (key) out.push({ key, scope: { kind: 'site', covers: (s) => s === site } });
    }
    for (const [stem, keys] of stems) {
      const key = keys[field];
      // A site with a keys-file entry is that entry's alone: a variable meant for a look-alike name never reaches it.
      if (key) out.push({ key, scope: { kind: 'site', covers: (s) => siteEnvStem(s) === stem && !sites.has(s) } });
    }
    return out;
  };
  const adminKeys = scoped('adminKey', options.adminKey);
  const backendKeys = scoped('backendKey', options.backendKey);
  const find = (list: { key: string; scope: AdminScope }[], key: string): AdminScope | null => {
    let found: AdminScope | null = null;
    // No early exit: how long this takes does not tell which key (if any) matched.
    for (const entry of list) if (safeEqual(key, entry.key) && !found) found = entry.scope;
    return found;
  };
  // A keys-file entry, else the environment's (never for a site the keys file names), else the global one.
  const own = (site: string, field: KeyField): string | undefined =>
    sites.has(site) ? sites.get(site)?.[field] : stems.get(siteEnvStem(site))?.[field];

  return {
    adminEnabled: adminKeys.length > 0,
    identitySecretFor: (site) => own(site, 'identitySecret') || options.identitySecret || undefined,
    adminScope: (key) => find(adminKeys, key),
    backendEnabled: backendKeys.length > 0,
    backendScope: (key) => find(backendKeys, key),
    webhookSecretFor: (site) => own(site, 'webhookSecret') || options.webhookSecret || undefined,
  };
}
