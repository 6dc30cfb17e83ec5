import { lsGet, parse } from '../json.js';
import type { SiteConfig, SiteConfigInput } from '../types.js';

// The site config known at start, synchronously: the option (the one /v1/sdk.js embeds), else the
// inline <script type="application/json" id="cairn-config">, else the copy of an earlier
// GET /v1/config for this site, which the core refreshes in the background.

export const CONFIG_KEY = 'cairn.cfg';
export const INLINE_CONFIG_ID = 'cairn-config';

/** Only a plain object counts as a config. */
export const asConfig = (c: unknown): SiteConfig | undefined =>
  c?.constructor == Object ? (c as SiteConfig) : undefined;

/** The inline config, if the document has one yet. */
export const inlineConfig = (doc: Document) => asConfig(parse(doc.getElementById(INLINE_CONFIG_ID)?.textContent));

export interface StartConfig {
  /** The config to start with, if any. */
  _config?: SiteConfig;
  /** It came with the page (option or inline): nothing is fetched. */
  _withPage?: 1;
}

export function startConfig(
  option: SiteConfig | SiteConfigInput | null | undefined,
  site: string,
  doc: Document,
): StartConfig {
  const withPage = asConfig(option) || inlineConfig(doc);
  if (withPage) return { _config: withPage, _withPage: 1 };
  const cached = lsGet(CONFIG_KEY);
  return { _config: asConfig(cached?.s == site && cached.c) };
}
