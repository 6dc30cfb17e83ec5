// When the next attempt of a failed delivery is due: exponential backoff with full jitter (AWS's
// "full jitter": a uniform pick in [0, min(cap, base * 2^n)]), or the receiver's Retry-After, and
// never past the delivery window measured from the first attempt.

export interface BackoffOptions {
  /** The first retry's ceiling, ms. Default 30 s. */
  baseMs?: number;
  /** The largest delay, ms. Default 1 h. */
  capMs?: number;
  /** The window from the first attempt; nothing is scheduled after it. Default 24 h. */
  windowMs?: number;
  /** [0, 1); injectable so tests know the delay. Default Math.random. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 30_000, capMs: 3_600_000, windowMs: 86_400_000 } as const;
/** A Retry-After further ahead than this is taken as this (a receiver cannot park a delivery for days). */
const MAX_RETRY_AFTER_MS = 6 * 3_600_000;

/**
 * Parses Retry-After (delta-seconds or an HTTP-date) into a delay in ms from `now`; null when absent
 * or unreadable. A date in the past is a delay of 0.
 */
export function retryAfterMs(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const value = header.trim();
  if (/^\d{1,10}$/.test(value)) return Math.min(Number(value) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(value);
  if (!Number.isFinite(at) || !/[a-z]/i.test(value)) return null;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

export type NextAttempt = { kind: 'retry'; at: number } | { kind: 'failed' };

/**
 * After failed attempt number `attempts` (1 for the first): when to try again, or 'failed' once the
 * window from `firstAttemptAt` is used up.
 */
export function nextAttempt(
  input: { attempts: number; firstAttemptAt: number; now: number; retryAfter?: string | null | undefined },
  options: BackoffOptions = {},
): NextAttempt {
  const base = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const cap = options.capMs ?? DEFAULT_BACKOFF.capMs;
  const windowEnd = input.firstAttemptAt + (options.windowMs ?? DEFAULT_BACKOFF.windowMs);
  if (input.now >= windowEnd) return { kind: 'failed' };
  const asked = retryAfterMs(input.retryAfter, input.now);
  let delay: number;
  if (asked !== null) delay = asked;
  else {
    const ceiling = Math.min(cap, base * 2 ** Math.min(Math.max(0, input.attempts - 1), 30));
    delay = Math.floor((options.random ?? Math.random)() * ceiling);
  }
  const at = input.now + delay;
  // The last attempt happens at the window's end rather than never.
  return { kind: 'retry', at: Math.min(at, windowEnd) };
}
