import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import type { Env } from '../../context.js';
import { HttpError } from '../../errors.js';

/** Refuses a request body over `maxSize` bytes with 413 `too_large`, before the handler reads any of it. */
export function bodyLimit(maxSize: number): MiddlewareHandler<Env> {
  const tooLarge = () => {
    throw new HttpError(413, 'too_large', `the request body exceeds ${maxSize} bytes`);
  };
  const streamed = honoBodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    // With a Content-Length (and no Transfer-Encoding) the header decides, as in Hono's middleware,
    // but without touching `c.req.raw.body`: left unread, the Node adapter later reads the body
    // straight from the socket instead of through a web ReadableStream.
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number.parseInt(length || '0', 10) > maxSize) tooLarge();
      return next();
    }
    // A chunked body is counted as it streams in.
    return streamed(c, next);
  };
}
