// The SDK never throws into the host page: failures become a CairnError (for Promises the host
// awaits) and a console warning, once per error code so a broken storage does not flood the console.

export type CairnErrorCode = 'consent' | 'no_server' | 'network' | 'http' | 'unauthorized' | 'invalid' | 'internal';

export class CairnError extends Error {
  override name = 'CairnError';
  constructor(
    readonly code: CairnErrorCode,
    message: string = code,
    /** The HTTP status, for `http` and `unauthorized`. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Anything thrown, as a CairnError (code `internal` unless it already is one). */
export const toError = (e: unknown): CairnError => (e instanceof CairnError ? e : new CairnError('internal', String(e)));

const warned: Record<string, 1> = {};

/** console.warn once per error code. */
export function warn(e: unknown): void {
  const c = toError(e).code;
  if (!warned[c]) {
    warned[c] = 1;
    console.warn('[cairn]', e);
  }
}
