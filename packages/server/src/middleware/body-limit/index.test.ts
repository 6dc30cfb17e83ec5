import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../context.js';
import { HttpError } from '../../errors.js';
import { bodyLimit } from './index.js';

function app() {
  const a = new Hono<Env>();
  a.onError((err, c) => (err instanceof HttpError ? c.json(err.body(), err.status) : c.text('boom', 500)));
  a.post('/in', bodyLimit(10), async (c) => c.text(`read ${(await c.req.text()).length}`));
  return a;
}

describe('body limit middleware', () => {
  it('lets a body of the limit through', async () => {
    const res = await app().request('/in', { method: 'POST', body: '0123456789' });
    expect(await res.text()).toBe('read 10');
  });

  it('refuses a longer body with 413 too_large naming the limit', async () => {
    const res = await app().request('/in', { method: 'POST', body: '0123456789x' });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'too_large', message: 'the request body exceeds 10 bytes' });
  });

  it('counts a streamed body without Content-Length as it arrives', async () => {
    const chunks = ['012345', '6789x'];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const res = await app().request('/in', { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
  });
});
