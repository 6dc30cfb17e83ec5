import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { C, Env } from '../../context.js';
import type { Log } from '../../log.js';
import type { Metrics } from '../../metrics.js';

/** The metrics/log label: the matched route pattern, never the raw path (bounded cardinality, no ids). */
export function routeLabel(c: C): string {
  if (c.req.method === 'OPTIONS') return 'preflight';
  const pattern = routePath(c, -1);
  return pattern.includes('*') ? 'unmatched' : pattern;
}

/** One log line and one metric per request, errors included (they are answered before this resumes). */
export function requestLog(log: Log, metrics: Metrics): MiddlewareHandler<Env> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const route = routeLabel(c);
    const status = c.res.status;
    metrics.request(route, c.req.method, status);
    const line = { method: c.req.method, route, status, ms: Math.round((performance.now() - started) * 10) / 10 };
    if (status >= 500) log.error(line, 'request');
    else log.info(line, 'request');
  };
}
