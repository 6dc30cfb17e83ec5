import type { Log } from '../log.js';
import type { DeliveryOutcome, Store } from '../store/types.js';
import { nextAttempt, type BackoffOptions } from './backoff.js';
import { SIGNATURE_HEADER, signWebhook } from './sign.js';

// One delivery attempt of one episode. The trigger_episodes row is the ledger: the attempt first
// claims it (conditional UPDATE with a lease), so two workers, or two instances, never send one
// episode at once; a 'delivered' row is never claimed again. Then it re-reads the status (a purchase
// may have cancelled it), POSTs the stored payload signed, and records the outcome under its claim.

export const USER_AGENT = 'Cairn-Webhooks/1';
/** How much of a failure's text the log keeps. */
const MAX_ERROR = 300;

export type DeliveryMetric = 'delivered' | 'retry' | 'failed' | 'cancelled';

export interface DeliverDeps {
  store: Store;
  /** The site's webhook secret; undefined when it has none (the attempt fails and is retried). */
  secretFor: (site: string) => string | undefined;
  log: Log;
  now?: () => number;
  /** Each POST is aborted after this long (ms). */
  timeoutMs: number;
  /** Backoff and the delivery window (windowMs). */
  backoff?: BackoffOptions;
  /** How long a claim holds the row; longer than timeoutMs, so that a live send never loses it. */
  leaseMs?: number;
  count?: (outcome: DeliveryMetric) => void;
  fetch?: typeof fetch;
}

export type AttemptResult =
  /** Not claimed: not due, already held by another worker, or over. */
  | { result: 'skipped' }
  /** Claimed, but cancelled (or delivered) meanwhile: nothing sent. */
  | { result: 'stopped' }
  | { result: 'delivered'; attempt: number }
  | { result: 'retry'; attempt: number; nextAttemptAt: number }
  | { result: 'failed'; attempt: number }
  /** The claim was lost before the outcome could be written (the lease ran out): the next claim decides. */
  | { result: 'lost'; attempt: number };

// The margin covers recording the outcome after an aborted POST.
export const leaseFor = (timeoutMs: number) => timeoutMs + Math.min(30_000, Math.max(1000, timeoutMs));

const truncate = (s: string) => (s.length > MAX_ERROR ? `${s.slice(0, MAX_ERROR - 1)}…` : s);

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${timeoutMs} ms`;
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` ${cause.message}` : ''}`;
  return err instanceof Error ? err.message : String(err);
}

/** Makes one attempt of the episode's delivery, if it is due and free. Never throws for the receiver's faults. */
export async function deliverOne(deps: DeliverDeps, site: string, id: string): Promise<AttemptResult> {
  const now = deps.now ?? Date.now;
  const leaseMs = deps.leaseMs ?? leaseFor(deps.timeoutMs);
  const claim = await deps.store.claimDelivery(site, id, now(), leaseMs);
  if (!claim) return { result: 'skipped' };
  const status = await deps.store.deliveryStatus(site, id);
  if (status !== 'pending' && status !== 'retrying') {
    deps.count?.('cancelled');
    return { result: 'stopped' };
  }

  let httpStatus: number | null = null;
  let error: string | null = null;
  let retryAfter: string | null = null;
  const secret = deps.secretFor(site);
  if (!secret) error = 'the site has no webhook secret (CAIRN_WEBHOOK_SECRET)';
  else {
    const t = Math.floor(now() / 1000);
    try {
      const res = await (deps.fetch ?? fetch)(claim.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(claim.payload, secret, t),
          'Idempotency-Key': claim.id,
          'User-Agent': USER_AGENT,
        },
        body: claim.payload,
        // A redirect is never followed: the signed body would go to a host nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
      httpStatus = res.status;
      retryAfter = res.headers.get('retry-after');
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 300 && res.status < 400) error = `redirect (${res.status}) not followed`;
      else if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (e) {
      error = describe(e, deps.timeoutMs);
    }
  }

  const at = now();
  let outcome: DeliveryOutcome;
  if (error === null && httpStatus !== null) outcome = { kind: 'delivered', at, status: httpStatus };
  else {
    const next = nextAttempt(
      { attempts: claim.attempt, firstAttemptAt: claim.firstAttemptAt, now: at, retryAfter },
      deps.backoff,
    );
    const err = truncate(error ?? 'failed');
    outcome =
      next.kind === 'retry'
        ? { kind: 'retry', at, nextAttemptAt: next.at, status: httpStatus, error: err }
        : { kind: 'failed', at, status: httpStatus, error: err };
  }
  const recorded = await deps.store.recordDelivery(site, id, claim, outcome);
  if (!recorded) {
    deps.log.warn({ event: 'webhook_claim_lost', site, episode: id, attempt: claim.attempt }, 'delivery claim lost');
    return { result: 'lost', attempt: claim.attempt };
  }
  const result = outcome.kind;
  deps.count?.(result);
  deps.log.info(
    {
      event: 'webhook_attempt',
      site,
      episode: id,
      trigger: claim.triggerId,
      attempt: claim.attempt,
      outcome: result,
      status: httpStatus,
    },
    'webhook attempt',
  );
  if (outcome.kind === 'retry')
    return { result: 'retry', attempt: claim.attempt, nextAttemptAt: outcome.nextAttemptAt };
  return { result, attempt: claim.attempt } as AttemptResult;
}
