import { CHANNELS } from '@cairn/schema';
import type { ReportEvent } from '../store/types.js';

// Attribution models: which touches get the credit for something a person did at a given moment.
// - first:  the person's earliest touch before it;
// - last:   their latest non-Direct touch before it (GA4's "last non-direct click"), else their latest touch;
// - linear: an equal share for each of their touches in the 30 days before it.
// Without any touch before the moment, the credit goes to Direct.

export const MODELS = ['first', 'last', 'linear'] as const;
export type Model = (typeof MODELS)[number];

export const DAY_MS = 86_400_000;
/** How far back touches count: the linear window, and how far before a range the reports read touches. */
export const LOOKBACK_MS = 30 * DAY_MS;

export interface TouchPoint {
  at: number;
  channel: string;
  source: string;
}

export interface Credit {
  channel: string;
  source: string;
  /** The share of the credit; a model's shares for one moment add up to 1. */
  weight: number;
}

export const DIRECT = { channel: 'Direct', source: '(direct)' } as const;

const KNOWN = new Set<string>(CHANNELS);

/** The touch a `touch` event carries, with an unknown channel read as Unassigned. Null if it carries none. */
export function touchPoint(e: ReportEvent): TouchPoint | null {
  const t = e.props.touch;
  if (e.type !== 'touch' || !t || typeof t !== 'object') return null;
  const { channel, source } = t as Record<string, unknown>;
  return {
    at: e.at,
    channel: typeof channel === 'string' && KNOWN.has(channel) ? channel : 'Unassigned',
    source: typeof source === 'string' && source.trim() ? source.trim().slice(0, 200) : '(not set)',
  };
}

/** The touches in the linear window of a moment: `at - 30 days <= touch <= at`. `touches` is sorted by time. */
export function windowTouches(touches: readonly TouchPoint[], at: number): TouchPoint[] {
  return touches.filter((t) => t.at <= at && t.at >= at - LOOKBACK_MS);
}

/** Who gets the credit, under `model`, for something done at `at`. `touches` is sorted by time. */
export function credit(touches: readonly TouchPoint[], at: number, model: Model): Credit[] {
  const before = touches.filter((t) => t.at <= at);
  const latest = before[before.length - 1];
  if (!latest) return [{ ...DIRECT, weight: 1 }];
  if (model === 'first') return [{ channel: before[0]!.channel, source: before[0]!.source, weight: 1 }];
  if (model === 'last') {
    let t = latest;
    for (const x of before) if (x.channel !== 'Direct') t = x;
    return [{ channel: t.channel, source: t.source, weight: 1 }];
  }
  // No touch in the window (a visit resumed long after its touch): the latest one carries it all.
  const win = windowTouches(before, at);
  const list = win.length ? win : [latest];
  const shares = new Map<string, Credit>();
  for (const t of list) {
    const k = `${t.channel}\u0000${t.source}`;
    const c = shares.get(k) ?? { channel: t.channel, source: t.source, weight: 0 };
    c.weight += 1 / list.length;
    shares.set(k, c);
  }
  return [...shares.values()];
}
