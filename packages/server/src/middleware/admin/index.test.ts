import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../context.js';
import { HttpError } from '../../errors.js';
import { adminOnly } from './index.js';

const KEY = 'admin-key-0123456789';

function app(adminKey: string | undefined) {
  let reached = 0;
  const a = new Hono<Env>();
  a.onError((err, c) => (err instanceof HttpError ? c.json(err.body(), err.status) : c.text('boom', 500)));
  a.get('/admin', adminOnly(adminKey), (c) => {
    reached++;
    return c.text('ok');
  });
  return { a, reached: () => reached };
}

describe('admin middleware', () => {
  it('lets the admin key through as a Bearer credential', async () => {
    const { a, reached } = app(KEY);
    expect((await a.request('/admin', { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    expect(reached()).toBe(1);
  });

  it('refuses a missing, wrong or malformed key with 401, before the handler', async () => {
    const { a, reached } = app(KEY);
    for (const authorization of [undefined, `Bearer ${KEY}x`, `Bearer ${KEY.slice(1)}`, KEY, 'Basic abc']) {
      const res = await a.request('/admin', { headers: authorization === undefined ? {} : { authorization } });
      expect(res.status, authorization).toBe(401);
    }
    expect(reached()).toBe(0);
  });

  it('answers 403 admin_disabled when the server has no admin key', async () => {
    for (const key of [undefined, '']) {
      const { a, reached } = app(key);
      const res = await a.request('/admin', { headers: { authorization: 'Bearer ' } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('admin_disabled');
      expect(reached()).toBe(0);
    }
  });
});
