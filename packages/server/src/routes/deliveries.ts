import { Hono } from 'hono';
import { z } from 'zod';
import { siteIdSchema } from '@cairn/schema';
import type { AppCtx, Env } from '../context.js';
import { adminOnly, siteFromQuery } from '../middleware/admin/index.js';
import { parseQuery } from '../request.js';
import type { DeliveryLogRow } from '../store/types.js';

// GET /v1/deliveries: a site's webhook delivery log (admin), newest change first. It says what
// happened to each episode and never what was sent: no payload, no email, no device id.

export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'failed', 'cancelled'] as const;
export const MAX_DELIVERIES = 500;

const deliveriesQuery = z.object({
  site: siteIdSchema,
  status: z.enum(DELIVERY_STATUSES).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_DELIVERIES))
    .default(50),
});

/** The person as the log may show them: a user id is the store's own; a device id is not shown. */
export function shownPerson(person: string): string {
  return person.startsWith('u:') ? `user ${person.slice(2)}` : 'anonymous device';
}

export interface DeliveryLogEntry {
  id: string;
  trigger: string;
  on: string | null;
  status: DeliveryLogRow['status'];
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  reason: string | null;
  person: string;
  createdAt: number;
  dueAt: number | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  updatedAt: number;
}

export function deliveryRoutes(ctx: AppCtx): Hono<Env> {
  const app = new Hono<Env>();
  const admin = adminOnly(ctx.admin, siteFromQuery);

  app.get('/v1/deliveries', admin, async (c) => {
    const q = parseQuery(c, deliveriesQuery);
    const rows = await ctx.store.listDeliveries(q.site, { limit: q.limit, ...(q.status ? { status: q.status } : {}) });
    // An episode without a payload yet (cancelled before it was due) takes `on` from the config.
    const triggers = (await ctx.configs.get(q.site))?.config.triggers ?? [];
    const onOf = new Map(triggers.map((t) => [t.id, t.on]));
    const deliveries: DeliveryLogEntry[] = rows.map((r) => ({
      id: r.id,
      trigger: r.triggerId,
      on: r.on ?? onOf.get(r.triggerId) ?? null,
      status: r.status,
      attempts: r.attempts,
      lastStatus: r.lastStatus,
      lastError: r.lastError,
      reason: r.reason,
      person: shownPerson(r.person),
      createdAt: r.createdAt,
      dueAt: r.dueAt,
      nextAttemptAt: r.status === 'pending' || r.status === 'retrying' ? r.nextAttemptAt : null,
      deliveredAt: r.deliveredAt,
      updatedAt: r.updatedAt,
    }));
    return c.json({ site: q.site, deliveries }, 200, { 'Cache-Control': 'no-store' });
  });
  return app;
}

/** For the server's OpenAPI document. */
export function deliveriesOpenApiPaths(): Record<string, unknown> {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    '/v1/deliveries': {
      get: {
        summary:
          "A site's trigger webhook deliveries (admin), newest change first: each episode's trigger, status (pending, retrying, delivered, failed, cancelled), attempts, the receiver's last HTTP status (null: no answer) and error, the cancellation reason, and the person as `user <id>` or `anonymous device`. Never the payload.",
        security: [{ adminKey: [] }],
        parameters: [
          { name: 'site', in: 'query', required: true, description: 'The site id.', schema: { type: 'string' } },
          {
            name: 'status',
            in: 'query',
            required: false,
            description: 'Only this status. Default: every status.',
            schema: { type: 'string', enum: [...DELIVERY_STATUSES] },
          },
          {
            name: 'limit',
            in: 'query',
            required: false,
            description: `At most this many, 1–${MAX_DELIVERIES}. Default 50.`,
            schema: { type: 'integer', minimum: 1, maximum: MAX_DELIVERIES, default: 50 },
          },
        ],
        responses: {
          '200': { description: 'The log: `{ site, deliveries: [...] }`.' },
          '400': error('Invalid query; `field` names it.'),
          '401': error('Admin key missing or wrong.'),
          '403': error('Admin endpoints disabled (no CAIRN_ADMIN_KEY), or a key of another site.'),
        },
      },
    },
  };
}
