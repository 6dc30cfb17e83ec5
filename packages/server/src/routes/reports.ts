import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { siteIdSchema } from '@cairn/schema';
import type { Env } from '../context.js';
import { HttpError } from '../errors.js';
import { bearer, parseQuery } from '../request.js';
import { safeEqual } from '../tokens.js';
import type { Store } from '../store/types.js';
import { channelReport, DAY_MS, experimentsReport, LOOKBACK_MS, MODELS } from '../reports/index.js';

// GET /v1/reports/channels and GET /v1/reports/experiments: the marketer console's data, behind the
// admin key. Ranges are [from, to) in epoch ms; dates are whole UTC days, `to` included.

export interface ReportsDeps {
  store: Store;
  /** Without one, the reports answer 403 (as the other admin endpoints do). */
  adminKey?: string | undefined;
  now?: () => number;
}

/** The longest range a report reads in one go: the rows are computed in memory. */
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

export function requireAdminKey(c: Context, adminKey: string | undefined): void {
  if (!adminKey) throw new HttpError(403, 'admin_disabled', 'admin endpoints are disabled: set CAIRN_ADMIN_KEY');
  const key = bearer(c);
  if (key === null || !safeEqual(key, adminKey)) throw new HttpError(401, 'unauthorized', 'admin key required as "Authorization: Bearer <key>"');
}

function range(q: { from?: number | undefined; to?: number | undefined }, now: number): { from: number; to: number } {
  const to = q.to ?? now;
  const from = q.from ?? to - DEFAULT_RANGE_DAYS * DAY_MS;
  if (from >= to) throw new HttpError(400, 'invalid_request', 'from: must be before to', 'from');
  if (to - from > MAX_RANGE_DAYS * DAY_MS) throw new HttpError(400, 'invalid_request', `from: the range is limited to ${MAX_RANGE_DAYS} days`, 'from');
  return { from, to };
}

export function reportsRoutes(deps: ReportsDeps): Hono<Env> {
  const app = new Hono<Env>();
  const now = deps.now ?? Date.now;
  const NO_STORE = { 'Cache-Control': 'no-store' };

  app.get('/v1/reports/channels', async (c) => {
    requireAdminKey(c, deps.adminKey);
    const q = parseQuery(c, reportQuery);
    const { from, to } = range(q, now());
    // The 30 days before the range too: the touches that started journeys ending in it.
    const rows = await deps.store.reportRows(q.site, from - LOOKBACK_MS, to);
    const report = channelReport(rows, { from, to, model: q.model, ...(q.currency ? { currency: q.currency } : {}) });
    return c.json({ site: q.site, ...report }, 200, NO_STORE);
  });

  app.get('/v1/reports/experiments', async (c) => {
    requireAdminKey(c, deps.adminKey);
    const q = parseQuery(c, reportQuery);
    const { from, to } = range(q, now());
    const rows = await deps.store.reportRows(q.site, from, to);
    return c.json({ site: q.site, ...experimentsReport(rows, { from, to }) }, 200, NO_STORE);
  });

  return app;
}
