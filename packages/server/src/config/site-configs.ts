import { createHash } from 'node:crypto';
import { validateSiteConfig, type ConfigIssue, type SiteConfig } from '@cairn/schema';
import type { Store } from '../store/types.js';
import { unquote } from '../http-cache.js';

// The site configs as the HTTP layer sees them: the stored one, else a default, cached briefly so that
// CORS checks on every request do not each cost a database read. Writes through this instance refresh
// the cache at once; other instances see a change within `ttlMs`.

/** The largest site config (its JSON, defaults filled in): the SDK fetches it on every visitor's first page. */
export const MAX_CONFIG_BYTES = 64 * 1024;

/** The issue of a config over MAX_CONFIG_BYTES, or null. */
export function configSizeIssue(config: SiteConfig): ConfigIssue | null {
  const bytes = Buffer.byteLength(JSON.stringify(config), 'utf8');
  if (bytes <= MAX_CONFIG_BYTES) return null;
  return {
    path: '(root)',
    message: `the config is ${bytes} bytes; a config is limited to ${MAX_CONFIG_BYTES} bytes (64 KB)`,
  };
}

export interface LoadedConfig {
  config: SiteConfig;
  /** Unquoted. */
  etag: string;
  stored: boolean;
}

export type DefaultConfig = (site: string) => SiteConfig | null;

/** An unconfigured site gets the empty config: tracking works, no variants, no prompts, no extra origins. */
export const emptyDefault: DefaultConfig = (site) => {
  const r = validateSiteConfig({ site });
  return r.ok ? r.config : null;
};

export interface SiteConfigs {
  get(site: string): Promise<LoadedConfig | null>;
  put(site: string, config: SiteConfig, ifMatch?: string | null): Promise<LoadedConfig | 'conflict'>;
  /** Every origin named by a config this instance has loaded: for requests whose site is not known yet. */
  knownOrigins: Set<string>;
}

export function createSiteConfigs(
  store: Store,
  now: () => number,
  defaults: DefaultConfig = emptyDefault,
  ttlMs = 5000,
): SiteConfigs {
  const cache = new Map<string, { value: LoadedConfig | null; at: number }>();
  const knownOrigins = new Set<string>();
  const remember = (site: string, value: LoadedConfig | null) => {
    if (cache.size > 10_000) cache.clear();
    cache.set(site, { value, at: now() });
    for (const o of value?.config.origins ?? []) knownOrigins.add(o);
    return value;
  };
  return {
    knownOrigins,
    async get(site) {
      const hit = cache.get(site);
      if (hit && now() - hit.at < ttlMs && now() >= hit.at) return hit.value;
      const stored = await store.getConfig(site);
      if (stored) return remember(site, { config: stored.config, etag: unquote(stored.etag), stored: true });
      const config = defaults(site);
      if (!config) return remember(site, null);
      const etag = 'd-' + createHash('sha256').update(JSON.stringify(config)).digest('base64url').slice(0, 22);
      return remember(site, { config, etag, stored: false });
    },
    async put(site, config, ifMatch) {
      const r = await store.putConfig(site, config, ifMatch);
      if (r === 'conflict') {
        cache.delete(site);
        return r;
      }
      return remember(site, { config: r.config, etag: unquote(r.etag), stored: true }) as LoadedConfig;
    },
  };
}
