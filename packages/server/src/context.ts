import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { Store } from './store/types.js';
import type { SiteConfigs } from './config/site-configs.js';
import type { Log } from './log.js';
import type { Metrics } from './metrics.js';
import type { AdminAuth } from './middleware/admin/index.js';
import type { SdkBundle } from './sdk/sdk-bundle.js';
import type { SdkChunks } from './sdk/sdk-chunks.js';

// The types every route module and middleware shares: Hono's environment, and the app's dependencies.

/** Counts one request against a device's allowance; rejects with 429 when it has none left. */
export type LimitDevice = (site: string, deviceId: string) => Promise<void>;

export type Env = {
  Bindings: { incoming?: IncomingMessage };
  Variables: {
    /** The site the request turned out to be for (set by the handler), for the CORS decision made after it. */
    site?: string;
    /** Set by the device-rate-limit middleware; called by the device check once the token has passed. */
    limitDevice: LimitDevice;
  };
};
export type C = Context<Env>;

export interface AppCtx {
  store: Store;
  configs: SiteConfigs;
  /** The admin keys (global and per site) and the allowance of failed ones per client address. */
  admin: AdminAuth;
  /** Required as Bearer on GET /metrics when set; without it, /metrics is open. */
  metricsKey: string | undefined;
  /** The secret a site's backend signs logins (and order confirmations) with; undefined when identity is off. */
  identitySecretFor: (site: string) => string | undefined;
  /** The secret a site's trigger webhooks are signed with; undefined when it has none (its triggers are refused). */
  webhookSecretFor: (site: string) => string | undefined;
  /** Origins allowed for every site (the --origins list). */
  origins: Set<string>;
  log: Log;
  metrics: Metrics;
  now: () => number;
  /** A login token whose exp is further ahead than this is refused. */
  maxLoginTtlSeconds: number;
  sdk: SdkBundle;
  sdkChunks: SdkChunks;
  /** Server cookies without Secure on plain http off loopback: local development and tests only. */
  insecureCookies: boolean;
}
