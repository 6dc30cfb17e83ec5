import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import type { Env } from '../../context.js';
import { HttpError } from '../../errors.js';

/** Refuses a request body over `maxSize` bytes with 413 `too_large`, before the handler reads any of it. */
export function bodyLimit(maxSize: number): MiddlewareHandler<Env> {
  return honoBodyLimit({
    maxSize,
    onError: () => {
      throw new HttpError(413, 'too_large', `the request body exceeds ${maxSize} bytes`);
    },
  });
}
