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
 * - `variant_applied` / `variant_held`: `variant` (its id), `slots` (the slot names it changed, or
 *   would have); a preview's `variant_applied` has `preview: true` and is never counted.
 * - `prompt_shown` / `prompt_held`: `prompt` (its id), `variant` (its content key), `device`.
 *   A `_held` event is the holdout's exposure: sent where the treated visitor gets the other.
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
   * Never sent now: a device's token is its client's own, presented from its first request (32
   * characters or more). Servers before that made one for a client that presented none.
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
  /**
   * The person's arm of each holdout (by variant and prompt id), from their first exposure on any
   * of their devices: a device adopts these over its own once linked.
   */
  arms: z
    .object({
      variants: z.record(z.string(), z.enum(['treated', 'held'])),
      prompts: z.record(z.string(), z.enum(['treated', 'held'])),
    })
    .optional(),
  /**
   * The user's CRM traits, from the store's backend (PUT /v1/users/:id/traits). Only in the profile
   * of a device linked to that user; never in an anonymous device's.
   */
  traits: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type Profile = z.infer<typeof profileSchema>;

export const identifyBodySchema = z.object({
  site: siteIdSchema,
  deviceId: deviceIdSchema,
  userId: z.string().min(1).max(128),
  /** From the storefront's backend: `signIdentity({ userId, secret })`. */
  token: z.string().min(10).max(1000),
  device: deviceKindSchema.optional(),
  /**
   * The device this browser logged out of while the logout could not reach the server, with its
   * token: revoked once this one is linked.
   */
  previous: z.object({ deviceId: deviceIdSchema, token: deviceTokenSchema }).optional(),
});
export type IdentifyBody = z.infer<typeof identifyBodySchema>;
/** `deviceToken`: never sent now (see collectResponseSchema). */
export const identifyResponseSchema = z.object({ profile: profileSchema, deviceToken: z.string().optional() });
export type IdentifyResponse = z.infer<typeof identifyResponseSchema>;

/**
 * POST /v1/recover: a browser whose script storage was wiped asks, with credentials, whether the
 * sync server set it a cookie (identity.serverCookie). 204 with no body when there is nothing to
 * recover; 200 with the device, a fresh token the server made, and its profile when there is.
 */
export const recoverBodySchema = z.object({ site: siteIdSchema });
export type RecoverBody = z.infer<typeof recoverBodySchema>;
export const recoverResponseSchema = z.object({
  deviceId: deviceIdSchema,
  deviceToken: deviceTokenSchema,
  profile: profileSchema,
});
export type RecoverResponse = z.infer<typeof recoverResponseSchema>;

/** POST /v1/logout: revokes the device's token. `deviceToken` as in a collect, for a beacon. */
export const logoutBodySchema = z.object({
  site: siteIdSchema,
  deviceId: deviceIdSchema,
  deviceToken: deviceTokenSchema.optional(),
  /**
   * 'denied': the visitor refused consent (cairn.consent('denied')): besides the revocation, the
   * device is recorded as refused, and no trigger ever fires on its history. Left out: a logout.
   */
  reason: z.enum(['logout', 'denied']).optional(),
});
export type LogoutBody = z.infer<typeof logoutBodySchema>;
export const logoutResponseSchema = z.object({ revoked: z.literal(true) });
export type LogoutResponse = z.infer<typeof logoutResponseSchema>;

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

/** At most this many traits per user; PATCH counts the merged result. */
export const MAX_TRAITS = 50;
const traitValue = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);
const traitKey = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a trait key is a letter, then up to 63 letters, digits and "_"');

/**
 * PUT (replaces) or PATCH (merges) /v1/users/:id/traits?site=, from the store's backend: a flat
 * object of strings, numbers and booleans. In a PATCH, `null` removes the key.
 */
export const traitsBodySchema = z
  .record(traitKey, traitValue)
  .refine((t) => Object.keys(t).length <= MAX_TRAITS, `at most ${MAX_TRAITS} traits`);
export const traitsPatchSchema = z.record(traitKey, traitValue.nullable());
export type Traits = z.infer<typeof traitsBodySchema>;
export const traitsResponseSchema = z.object({ userId: z.string(), traits: traitsBodySchema, updatedAt: z.number() });
export type TraitsResponse = z.infer<typeof traitsResponseSchema>;

const webhookItem = z.object({ id: z.string(), at: z.number(), device: deviceKindSchema.optional() });

/**
 * The JSON body of a trigger's webhook (POST to the trigger's `url`), signed in `Cairn-Signature:
 * t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the site's webhook secret. Every attempt of
 * one episode carries the same body and `idempotencyKey` (also sent as `Idempotency-Key`).
 */
export const webhookBodySchema = z.object({
  /** The episode's id: one delivery per episode; a receiver drops a key it has processed. */
  idempotencyKey: z.string(),
  site: siteIdSchema,
  trigger: z.object({ id: z.string(), on: z.enum(['browse_abandoned', 'cart_abandoned']) }),
  episode: z.object({
    id: z.string(),
    /** Its first and last qualifying event, epoch ms. */
    startedAt: z.number(),
    lastAt: z.number(),
  }),
  person: z.object({
    /** Set when the person is identified. */
    userId: z.string().nullable(),
    /** The opted-in address, when the trigger allows the email channel and the person opted in. */
    email: z.string().optional(),
    /** The channels of the trigger this person can be reached on. */
    channels: z.array(z.enum(['email', 'sms'])),
    /** The user's CRM traits (identified people only). */
    traits: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }),
  /** From every device of the person, newest first. */
  products: z.array(webhookItem),
  categories: z.array(webhookItem),
  /** The products added to the cart in the episode (cart_abandoned), newest first. */
  cart: z.array(webhookItem),
  firstTouch: touchSchema.nullable(),
  lastTouch: touchSchema.nullable(),
  /** The device kinds the person used, as seen. */
  devices: z.array(deviceKindSchema),
  /** Epoch ms: when the delivery was made (the same on every attempt). */
  createdAt: z.number(),
});
export type WebhookBody = z.infer<typeof webhookBodySchema>;

/** Every 4xx answers with this shape; `field` names the first bad field, dotted. */
export const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  field: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ApiError = z.infer<typeof errorSchema>;
