import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import type { SiteConfig } from '@cairn/schema';

// Serves @cairn/sdk's dist/cairn.js with a site config embedded in place of its placeholder literal.

export const PLACEHOLDER = '__CAIRN_EMBEDDED_CONFIG__';
const QUOTED = [`"${PLACEHOLDER}"`, `'${PLACEHOLDER}'`];

/** What a browser may read of a config: the triggers (webhook URLs, audiences) stay on the server. */
export type PublicConfig = Omit<SiteConfig, 'triggers'>;

/** The config without its triggers: what GET /v1/config serves without an admin key. */
export function publicConfig(config: SiteConfig): PublicConfig {
  const { triggers: _serverOnly, ...served } = config;
  return served;
}

/**
 * A JS string literal holding the config's JSON, safe inside an inline <script> too. `$schema` is for
 * editors, not browsers: it is left out of the script every visitor downloads, as are the triggers.
 */
export function configLiteral(config: SiteConfig): string {
  const { $schema: _forEditors, ...served } = publicConfig(config);
  return JSON.stringify(JSON.stringify(served))
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function embedConfig(bundle: string, config: SiteConfig): string {
  const lit = configLiteral(config);
  // split/join, not String.replace: the config may contain "$&" and friends.
  return QUOTED.reduce((src, q) => src.split(q).join(lit), bundle);
}

export function resolveSdkPath(): string | null {
  try {
    return createRequire(import.meta.url).resolve('@cairn/sdk/cairn.js');
  } catch {
    return null;
  }
}

export interface SdkBundle {
  /** The bundle text and a short hash of it, or null when it has not been built. */
  read(): { text: string; hash: string } | null;
  /** Where the bundle is (its chunks are beside it), or null when it cannot be found. */
  path(): string | null;
}

/** Re-reads the file when its mtime or size changes, so a rebuilt SDK is served without a restart. */
export function createSdkBundle(path?: string): SdkBundle {
  let cached: { key: string; text: string; hash: string } | null = null;
  return {
    path: () => path ?? resolveSdkPath(),
    read() {
      const p = path ?? resolveSdkPath();
      if (!p) return null;
      try {
        const st = statSync(p);
        const key = `${p}:${st.mtimeMs}:${st.size}`;
        if (cached?.key !== key) {
          const text = readFileSync(p, 'utf8');
          cached = { key, text, hash: createHash('sha256').update(text).digest('base64url').slice(0, 16) };
        }
        return cached;
      } catch {
        return null;
      }
    },
  };
}
