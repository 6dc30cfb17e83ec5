import type { z } from 'zod';
import type { ApiError } from '@cairn/schema';

// Every refusal is an HttpError thrown from a handler; app.onError turns it into the one JSON error shape.

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 429 | 503;

export class HttpError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly issues?: { path: string; message: string }[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): ApiError {
    return {
      error: this.code,
      message: this.message,
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.issues ? { issues: this.issues } : {}),
    };
  }
}

export function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** A zod failure as a 400 naming the first bad field, with every issue listed. */
export function fromZod(error: z.ZodError, prefix?: string): HttpError {
  const issues = error.issues.slice(0, 50).map((i) => {
    const p = dotted(i.path);
    return { path: prefix ? (p ? `${prefix}.${p}` : prefix) : p, message: i.message };
  });
  const first = issues[0] ?? { path: '', message: 'invalid' };
  return new HttpError(
    400,
    'invalid_request',
    first.path ? `${first.path}: ${first.message}` : first.message,
    first.path || undefined,
    issues,
  );
}

export const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);

/** A start-up problem worth one line to the operator (bad config, short key, unreachable database…). */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * The client closed the connection before its request body arrived: nobody is waiting for an
 * answer, and nothing on the server failed (logged at info as 499, never as an outage).
 */
export class ClientClosedRequest extends Error {
  override name = 'ClientClosedRequest';
}
