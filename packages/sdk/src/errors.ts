// The SDK never throws into the host page: failures become a CairnError (for Promises the host
// awaits) and a console warning, once per error code so a broken storage does not flood the console.

export type CairnErrorCode = 'consent' | 'no_server' | 'network' | 'http' | 'unauthorized' | 'invalid' | 'internal';

export class CairnError extends Error {
  declare readonly code: CairnErrorCode;
  /** The HTTP status, for `http` and `unauthorized`. */
  declare readonly status?: number;
  /** `cause`: what was thrown, or the Response of an HTTP error. */
  constructor(code: CairnErrorCode, status?: number, cause?: unknown) {
    super(status ? code + ' ' + status : code, { cause });
    Object.assign(this, { name: 'CairnError', code, status });
  }
}

/**
 * Anything thrown, as a CairnError (code `internal` unless it already is one). By name, not
 * `instanceof`: the script tag's core also throws the head's CairnError (build.mjs, the hand-over).
 */
export const toError = (e: unknown): CairnError =>
  (e as CairnError | null)?.name == 'CairnError' ? (e as CairnError) : new CairnError('internal', 0, e);

const warned: Record<string, 1> = {};

/** console.warn once per error code (`internal` for anything not a CairnError). Tells them apart by name, so the head need not ship the class. */
export const warn = (e: unknown): void => {
  const c = (e as CairnError | null)?.name == 'CairnError' ? (e as CairnError).code : 'internal';
  if (!warned[c]) (warned[c] = 1), console.warn('[cairn]', e);
};

/** `fn`, except that what it throws is warned, never thrown into the host page. */
export const guard =
  <A extends unknown[]>(fn: (...a: A) => void) =>
  (...a: A): void => {
    try {
      fn(...a);
    } catch (e) {
      warn(e);
    }
  };
