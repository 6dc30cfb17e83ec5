import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nextAttempt, retryAfterMs } from '../src/triggers/backoff.js';
import { signWebhook, verifyWebhook } from '../src/triggers/sign.js';

const SECRET = 'whsec-0123456789abcdefghijklmnopqrstuv';
const BODY = '{"idempotencyKey":"e1","site":"shop"}';
const T = 1_767_000_000;

describe('signWebhook / verifyWebhook', () => {
  it('signs "<t>.<body>" with HMAC-SHA256, as Stripe does', () => {
    const hex = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signWebhook(BODY, SECRET, T)).toBe(`t=${T},v1=${hex}`);
    expect(verifyWebhook(BODY, signWebhook(BODY, SECRET, T), SECRET, { now: T + 10 })).toEqual({ ok: true, t: T });
  });

  it('refuses another body, another secret, an old or future timestamp, and junk', () => {
    const header = signWebhook(BODY, SECRET, T);
    expect(verifyWebhook(`${BODY} `, header, SECRET, { now: T })).toEqual({ ok: false, reason: 'signature' });
    expect(verifyWebhook(BODY, header, `${SECRET}x`, { now: T })).toEqual({ ok: false, reason: 'signature' });
    expect(verifyWebhook(BODY, header, SECRET, { now: T + 301 })).toEqual({ ok: false, reason: 'timestamp' });
    expect(verifyWebhook(BODY, header, SECRET, { now: T - 301 })).toEqual({ ok: false, reason: 'timestamp' });
    expect(verifyWebhook(BODY, header, SECRET, { now: T + 1000, toleranceSeconds: 1000 })).toMatchObject({ ok: true });
    for (const bad of [undefined, '', 't=abc,v1=00', `v1=${'0'.repeat(64)}`, `t=${T}`, `t=${T},v1=xyz`])
      expect(verifyWebhook(BODY, bad, SECRET, { now: T })).toEqual({ ok: false, reason: 'malformed' });
    // The timestamp is signed: moving it breaks the signature.
    const moved = header.replace(`t=${T}`, `t=${T + 1}`);
    expect(verifyWebhook(BODY, moved, SECRET, { now: T })).toEqual({ ok: false, reason: 'signature' });
  });

  it('accepts any of several v1 signatures (secret rotation)', () => {
    const oldSig = signWebhook(BODY, 'old-secret-0123456789abcdefghijklmnop', T).split(',v1=')[1];
    const header = `t=${T},v1=${oldSig},${signWebhook(BODY, SECRET, T).split(',')[1]}`;
    expect(verifyWebhook(BODY, header, SECRET, { now: T })).toMatchObject({ ok: true });
    expect(verifyWebhook(BODY, header, 'old-secret-0123456789abcdefghijklmnop', { now: T })).toMatchObject({
      ok: true,
    });
    expect(verifyWebhook(BODY, header, 'third', { now: T })).toMatchObject({ ok: false });
  });
});

describe('backoff', () => {
  const first = 1_000_000;
  it('grows exponentially under a cap, with full jitter', () => {
    const at = (attempts: number, random: number) =>
      nextAttempt(
        { attempts, firstAttemptAt: first, now: first },
        { baseMs: 1000, capMs: 10_000, random: () => random },
      );
    expect(at(1, 0.999)).toEqual({ kind: 'retry', at: first + 999 });
    expect(at(2, 0.5)).toEqual({ kind: 'retry', at: first + 1000 });
    expect(at(3, 0.5)).toEqual({ kind: 'retry', at: first + 2000 });
    expect(at(10, 0.5)).toEqual({ kind: 'retry', at: first + 5000 });
    expect(at(60, 0)).toEqual({ kind: 'retry', at: first });
  });

  it('takes Retry-After as seconds or an HTTP date, within the window', () => {
    const now = first + 5000;
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(retryAfterMs(new Date(now - 90_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('-5', now)).toBeNull();
    expect(nextAttempt({ attempts: 1, firstAttemptAt: first, now, retryAfter: '60' }, { random: () => 0 })).toEqual({
      kind: 'retry',
      at: now + 60_000,
    });
    // Never past the window: the last attempt is at its end.
    expect(
      nextAttempt(
        { attempts: 1, firstAttemptAt: first, now, retryAfter: '3600' },
        { windowMs: 60_000, random: () => 0 },
      ),
    ).toEqual({ kind: 'retry', at: first + 60_000 });
    expect(nextAttempt({ attempts: 9, firstAttemptAt: first, now: first + 60_000 }, { windowMs: 60_000 })).toEqual({
      kind: 'failed',
    });
  });
});
