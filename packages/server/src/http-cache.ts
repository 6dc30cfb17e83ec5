import type { Context } from 'hono';

// Entity tags: stored and compared unquoted, sent quoted.

export const unquote = (etag: string) =>
  etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
export const quote = (etag: string) => `"${unquote(etag)}"`;

/** Whether If-None-Match names this ETag (weak or strong, in a list, or "*"). */
export function notModified(c: Context, etag: string): boolean {
  const header = c.req.header('if-none-match');
  if (!header) return false;
  return header.split(',').some((t) => t.trim() === '*' || unquote(t) === unquote(etag));
}
