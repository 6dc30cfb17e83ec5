import { z } from 'zod';
import { touchSchema } from './touch.js';

// Bodies of the sync API (/v1). The server validates with these; the SDK uses the inferred types.
// Objects strip unknown keys (zod's default) rather than refuse them, so old servers accept new SDKs.

export const LIMITS = {
  eventsPerBatch: 100,
  batchBytes: 64 * 1024,
  /** The SDK's on-device caps, which the server's merged profile honours too. */
  pageViews: 200,
  touches: 50,
  products: 50,
  categories: 30,
} as const;

export const siteIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
/** The SDK makes UUIDs; anything of the same shape and size is accepted. */
export const deviceIdSchema = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
export const eventIdSchema = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
export const deviceKindSchema = z.enum(['mobile', 'desktop']);
export type DeviceKind = z.infer<typeof deviceKindSchema>;

const propValue = z.union([z.string().max(2000), z.number().finite(), z.boolean(), z.null()]);

/**
 * One event. `type` names it: `page`, `touch`, or any custom name from `cairn.track`.
 * - `page`: `path`, `title`, `product?`, `category?`, `session`, `device`.
 * - `touch`: `touch` (a Touch).
 * Other props are flat scalars, or one level of arrays/objects of scalars (e.g. purchase `items`).
 */
const eventBaseSchema = z.object({
  id: eventIdSchema,
  type: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z][a-z0-9_]*$/, 'snake_case event names'),
  at: z.number().int().nonnegative(),
  path: z.string().max(2000).optional(),
  title: z.string().max(500).optional(),
  product: z.string().max(100).optional(),
  category: z.string().max(100).optional(),
  session: z.string().max(64).optional(),
  device: deviceKindSchema.optional(),
  touch: touchSchema.optional(),
});

export const eventSchema = eventBaseSchema.catchall(
  z.union([
    propValue,
    z.array(z.union([propValue, z.record(z.string().max(64), propValue)])).max(100),
    z.record(z.string().max(64), propValue),
  ]),
);
/** The catch-all props are typed loosely: the known fields (e.g. the nested `touch`) could not satisfy a strict index signature. */
export type CairnEvent = z.infer<typeof eventBaseSchema> & { [prop: string]: unknown };

/**
 * A device token as the server takes it in `Authorization: Bearer <token>`: 1 to 1,024 visible
 * ASCII characters. The server adopts one for a new device only from 32 characters on.
 */
export const deviceTokenSchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,1024}$/, 'a device token is 1 to 1024 visible ASCII characters (no spaces)');

export const collectBodySchema = z.object({
  site: siteIdSchema,
  deviceId: deviceIdSchema,
  events: z.array(eventSchema).min(1).max(LIMITS.eventsPerBatch),
  /**
   * The device token, for a client that cannot set headers: `navigator.sendBeacon` posts text/plain
   * with no Authorization. Used only when the request has no Bearer token; with one, both must agree.
   */
  deviceToken: deviceTokenSchema.optional(),
});
export type CollectBody = z.infer<typeof collectBodySchema>;

export const collectResponseSchema = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  /**
   * Only on a device's first collect, when the client presented no token of its own (as
   * `Authorization: Bearer`, 32 characters or more): keep it, it is the device's read key.
   */
  deviceToken: z.string().optional(),
});
export type CollectResponse = z.infer<typeof collectResponseSchema>;

export const profilePageViewSchema = z.object({
  id: z.string(),
  path: z.string(),
  title: z.string(),
  at: z.number(),
  product: z.string().optional(),
  category: z.string().optional(),
  device: deviceKindSchema.optional(),
});
export const viewedItemSchema = z.object({ id: z.string(), at: z.number(), device: deviceKindSchema.optional() });

/** A device's profile, or once linked, the user's merged profile across devices. Lists are newest first. */
export const profileSchema = z.object({
  userId: z.string().nullable(),
  pageViews: z.array(profilePageViewSchema),
  products: z.array(viewedItemSchema),
  categories: z.array(viewedItemSchema),
  touches: z.array(touchSchema),
  firstTouch: touchSchema.nullable(),
  lastTouch: touchSchema.nullable(),
  optedIn: z.boolean(),
});
export type Profile = z.infer<typeof profileSchema>;

export const identifyBodySchema = z.object({
  site: siteIdSchema,
  deviceId: deviceIdSchema,
  userId: z.string().min(1).max(128),
  /** From the storefront's backend: `signIdentity({ userId, secret })`. */
  token: z.string().min(10).max(1000),
  device: deviceKindSchema.optional(),
});
export type IdentifyBody = z.infer<typeof identifyBodySchema>;
export const identifyResponseSchema = z.object({ profile: profileSchema, deviceToken: z.string().optional() });
export type IdentifyResponse = z.infer<typeof identifyResponseSchema>;

export const optinBodySchema = z.object({
  /** Client-made id: a retried or double submit is a no-op. */
  id: eventIdSchema,
  site: siteIdSchema,
  deviceId: deviceIdSchema,
  email: z.email().max(254),
  consentText: z.string().min(1).max(2000),
  at: z.number().int().nonnegative(),
  promptId: z.string().max(64).optional(),
  touch: touchSchema.nullable().optional(),
});
export type OptinBody = z.infer<typeof optinBodySchema>;

/**
 * POST /v1/orders/confirm, from the shop's backend: `token` is signed with the site's identity
 * secret (`signOrder` in @cairn/server) over `{ site, order, value, currency, exp, device? }`.
 */
export const orderConfirmBodySchema = z.object({
  site: siteIdSchema,
  token: z.string().min(10).max(2000),
});
export type OrderConfirmBody = z.infer<typeof orderConfirmBodySchema>;
/** `already`: this confirmation was recorded before (a retry); nothing changed. */
export const orderConfirmResponseSchema = z.object({
  orderId: z.string(),
  status: z.enum(['confirmed', 'already']),
});
export type OrderConfirmResponse = z.infer<typeof orderConfirmResponseSchema>;

/** Every 4xx answers with this shape; `field` names the first bad field, dotted. */
export const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  field: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ApiError = z.infer<typeof errorSchema>;
