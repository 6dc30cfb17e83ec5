import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../context.js';
import type { Log } from '../../log.js';
import { createMetrics } from '../../metrics.js';
import { requestLog } from './index.js';

function app() {
  const lines: { level: string; obj: Record<string, unknown> }[] = [];
  const log: Log = {
    info: (obj) => lines.push({ level: 'info', obj: obj as Record<string, unknown> }),
    warn: (obj) => lines.push({ level: 'warn', obj: obj as Record<string, unknown> }),
    error: (obj) => lines.push({ level: 'error', obj: obj as Record<string, unknown> }),
  };
  const metrics = createMetrics();
  const a = new Hono<Env>();
  a.use('*', requestLog(log, metrics));
  a.get('/users/:id', (c) => c.text('ok'));
  a.get('/fail', () => {
    throw new Error('boom');
  });
  a.onError((_err, c) => c.text('internal', 500));
  return { a, lines, metrics };
}

describe('request log middleware', () => {
  it('logs the route pattern, never the raw path, and counts the request', async () => {
    const { a, lines, metrics } = app();
    await a.request('/users/alice?secret=1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', obj: { method: 'GET', route: '/users/:id', status: 200 } });
    expect(JSON.stringify(lines)).not.toMatch(/alice|secret/);
    expect(metrics.render()).toContain('cairn_http_requests_total{route="/users/:id",method="GET",status="200"} 1');
  });

  it('logs a 5xx as an error, and an unmatched path as "unmatched"', async () => {
    const { a, lines } = app();
    await a.request('/fail');
    await a.request('/nothing/here');
    expect(lines.map((l) => [l.level, l.obj.route, l.obj.status])).toEqual([
      ['error', '/fail', 500],
      ['info', 'unmatched', 404],
    ]);
  });
});
