// @cairn/server: the sync server as a library (the cairn-server CLI wraps it).
export { createApp, DEFAULT_RATE_LIMITS, type AppDeps } from './app.js';
export { startServer, loadSiteConfigs, StartupError, type StartOptions, type RunningServer } from './server.js';
export {
  signIdentity,
  verifyIdentity,
  type SignIdentityOptions,
  type VerifyIdentityOptions,
  type VerifyResult,
  type VerifyFailure,
  type IdentityClaims,
} from './identity/identity-token.js';
export {
  signOrder,
  verifyOrder,
  type SignOrderOptions,
  type OrderClaims,
  type VerifyOrderResult,
  type VerifyOrderFailure,
} from './identity/order-token.js';
export {
  signWebhook,
  verifyWebhook,
  SIGNATURE_HEADER,
  type VerifyOptions as VerifyWebhookOptions,
  type VerifyResult as VerifyWebhookResult,
} from './triggers/sign.js';
export { openStore } from './store/index.js';
export type * from './store/types.js';
export { createLogger, type Log, type LogLevel } from './log.js';
export { createMetrics, type Metrics } from './metrics.js';
export type { BucketOptions } from './rate-limit.js';
export { openApiDocument } from './openapi.js';
