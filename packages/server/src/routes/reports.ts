import { Hono } from 'hono';
import { z } from 'zod';
import { siteIdSchema } from '@cairn/schema';
import type { Env } from '../context.js';
import { HttpError } from '../errors.js';
import { adminOnly, siteFromQuery, type AdminAuth } from '../middleware/admin/index.js';
import { parseQuery } from '../request.js';
import type { Store } from '../store/types.js';
import { DAY_MS, DEFAULT_MDE, MIN_PEOPLE_PER_ARM, MODELS } from '../reports/index.js';

// GET /v1/reports/channels and GET /v1/reports/experiments: the marketer console's data, behind the
// admin key. Ranges are [from, to) in epoch ms; dates are whole UTC days, `to` included.

export interface ReportsDeps {
  store: Store;
  /** The app's admin keys, or one global key; without any, the reports answer 403 (as other admin routes do). */
  adminKey?: AdminAuth | string | undefined;
  now?: () => number;
}

/** The longest range a report reads in one go: its touches, purchases and exposures come to memory. */
export const MAX_RANGE_DAYS = 366;
const DEFAULT_RANGE_DAYS = 30;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A `YYYY-MM-DD` date (UTC; as an end, the whole day is included) or epoch milliseconds. */
const instant = (end: boolean) =>
  z.string().transform((s, ctx) => {
    if (/^\d{1,15}$/.test(s)) return Number(s);
    const t = DATE.test(s) ? Date.parse(`${s}T00:00:00Z`) : NaN;
    // Date.parse rolls 2024-02-30 over to March: such a date is refused, not moved.
    if (Number.isFinite(t) && new Date(t).toISOString().startsWith(s)) return end ? t + DAY_MS : t;
    ctx.addIssue({ code: 'custom', message: 'expected a date as YYYY-MM-DD (UTC) or epoch milliseconds' });
    return z.NEVER;
  });

export const reportQuery = z.object({
  site: siteIdSchema,
  from: instant(false).optional(),
  to: instant(true).optional(),
  model: z.enum(MODELS).default('last'),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'expected a 3-letter currency code such as EUR')
    .transform((s) => s.toUpperCase())
    .optional(),
});

/** The experiments report also takes `mde`: the minimum relative lift worth detecting, 0.01–1 (1%–100%). */
export const experimentsQuery = reportQuery.extend({
  mde: z
    .string()
    .regex(/^\d*\.?\d+$/, 'expected a relative lift as a decimal, such as 0.1 for 10%')
    .transform(Number)
    .pipe(z.number().min(0.01, 'expected at least 0.01 (1%)').max(1, 'expected at most 1 (100%)'))
    .default(DEFAULT_MDE),
});

function range(q: { from?: number | undefined; to?: number | undefined }, now: number): { from: number; to: number } {
  const to = q.to ?? now;
  const from = q.from ?? to - DEFAULT_RANGE_DAYS * DAY_MS;
  if (from >= to) throw new HttpError(400, 'invalid_request', 'from: must be before to', 'from');
  if (to - from > MAX_RANGE_DAYS * DAY_MS)
    throw new HttpError(400, 'invalid_request', `from: the range is limited to ${MAX_RANGE_DAYS} days`, 'from');
  return { from, to };
}

/** Whether the site's stored config counts only confirmed orders (read fresh: a report is an admin's read). */
async function confirmationRequired(store: Store, site: string): Promise<boolean> {
  return (await store.getConfig(site))?.config.orders?.confirmation === 'required';
}

export function reportsRoutes(deps: ReportsDeps): Hono<Env> {
  const app = new Hono<Env>();
  const now = deps.now ?? Date.now;
  const NO_STORE = { 'Cache-Control': 'no-store' };
  const admin = adminOnly(deps.adminKey, siteFromQuery);

  app.get('/v1/reports/channels', admin, async (c) => {
    const q = parseQuery(c, reportQuery);
    const { from, to } = range(q, now());
    // Read (with the 30 days before the range: the touches that started journeys ending in it) and
    // computed in the store's report worker: the page views stay in the database, each device's
    // activity comes aggregated, and only the report comes back to this thread.
    const report = await deps.store.computeReport({
      report: 'channels',
      site: q.site,
      options: {
        from,
        to,
        model: q.model,
        confirmationRequired: await confirmationRequired(deps.store, q.site),
        ...(q.currency ? { currency: q.currency } : {}),
      },
    });
    return c.json({ site: q.site, ...report }, 200, NO_STORE);
  });

  app.get('/v1/reports/experiments', admin, async (c) => {
    const q = parseQuery(c, experimentsQuery);
    const { from, to } = range(q, now());
    // The arms come from each person's first exposure over all time, not only the range's.
    const exposures = await deps.store.reportExposures(q.site, from, to);
    const confirmation = await confirmationRequired(deps.store, q.site);
    const report = await deps.store.computeReport({
      report: 'experiments',
      site: q.site,
      options: {
        from,
        to,
        confirmationRequired: confirmation,
        mde: q.mde,
        ...(q.currency ? { currency: q.currency } : {}),
      },
      exposures,
    });
    return c.json({ site: q.site, ...report }, 200, NO_STORE);
  });

  return app;
}

/** The reports' operations, for the server's OpenAPI document (`paths: { ...reportsOpenApiPaths() }`). */
export function reportsOpenApiPaths(): Record<string, unknown> {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const param = (
    name: string,
    description: string,
    schema: Record<string, unknown> = { type: 'string' },
    required = false,
  ) => ({ name, in: 'query', required, description, schema });
  const range = [
    param('site', 'The site id.', { type: 'string' }, true),
    param('from', 'Start: YYYY-MM-DD (UTC) or epoch ms. Default: 30 days before `to`.'),
    param(
      'to',
      'End: YYYY-MM-DD (UTC, that day included) or epoch ms (excluded). Default: now. At most 366 days after `from`.',
    ),
  ];
  const refusals = {
    '400': error('Invalid query; `field` names it.'),
    '401': error('Admin key missing or wrong.'),
    '403': error('Admin endpoints disabled (no CAIRN_ADMIN_KEY).'),
  };
  return {
    '/v1/reports/channels': {
      get: {
        summary:
          'The funnel by channel and by source under one attribution model (admin): visitors, opt-ins, identified users, purchasers, repeat purchasers, orders (deduplicated by orderId), revenue, step rates, revenue per 1,000 visitors, and touches per purchasing journey. A visitor is a person: a user across their devices, or an anonymous device. ' +
          'An order counts for the person who reported it first in the order the server received the reports (never by the time the client gave); claims by anyone else are ignored and counted in `orderChecks.conflictingClaims`. ' +
          'When the site config sets `orders.confirmation: "required"`, only orders confirmed by POST /v1/orders/confirm count, with the confirmed value (`orderChecks.unconfirmed` counts the others).',
        security: [{ adminKey: [] }],
        parameters: [
          ...range,
          param('model', 'Attribution model. Default: last.', { type: 'string', enum: [...MODELS] }),
          param(
            'currency',
            'The currency revenue is counted in (ISO 4217). Default: the most frequent among the orders.',
          ),
        ],
        responses: { '200': { description: 'The report.' }, ...refusals },
      },
    },
    '/v1/reports/experiments': {
      get: {
        summary:
          "Lift per variant and per prompt, treatment against holdout (admin). `lift.variants` and `lift.prompts`: per id, the people in each arm (a person, a user across devices or an anonymous device, counts in the arm of their first exposure: `variant_applied`/`prompt_shown` for treatment, `variant_held`/`prompt_held` for holdout; previews never count; people exposed in both arms after a merge stay in their first arm and are counted in `crossovers`), and for each metric (optinRate, identifiedRate, purchaseRate, revenuePerVisitor, counted from the first exposure) the arms' means, the absolute and relative lift with a 95% always-valid interval (a normal-mixture confidence sequence: valid however often it is looked at), a verdict (`not enough data yet` below " +
          MIN_PEOPLE_PER_ARM +
          " people per arm or while the interval is too wide, `better` or `worse` when it excludes 0, `no detectable difference` when it lies within ±mde of the holdout's mean) and `neededPerArm`, the people each arm needs to detect the MDE with 80% power. " +
          'Also, observed and NOT causal: `variants` (rates after first exposure) beside a `baseline` of visitors who got no variant, and `prompts` (shown, dismissed, submitted and opt-ins by device kind).',
        security: [{ adminKey: [] }],
        parameters: [
          ...range,
          param(
            'mde',
            `Minimum detectable effect: the smallest relative lift worth detecting, 0.01–1. Default: ${DEFAULT_MDE} (10%).`,
            { type: 'number', minimum: 0.01, maximum: 1, default: DEFAULT_MDE },
          ),
          param('currency', 'The currency revenue per visitor counts (ISO 4217). Default: the most frequent.'),
        ],
        responses: { '200': { description: 'The report.' }, ...refusals },
      },
    },
  };
}
