import type { ReportEvent, ReportRows } from '../store/types.js';
import { mainCurrency } from './channels.js';
import type { People } from './people.js';
import { countedOrders, purchases } from './purchases.js';
import { ALPHA, addPerson, compareArms, emptySums, type ArmSums, type Comparison } from './sequential.js';

// Lift per variant and per prompt: the people exposed to it (treatment) against the people held out
// of it (holdout), counted from the moment of their first exposure: `variant_applied` / `variant_held`
// for a variant, `prompt_shown` / `prompt_held` for a prompt (a preview is never an exposure).
//
// A person (a user across their linked devices, else a device) counts under one arm only: the arm of
// their first exposure by the event's time, ties broken by event id. Time, not the server's receive
// order: the arm is decided on the device when the page is shown, and a device's outbox may send it
// hours later (offline, or a tab closed before the beacon); the time says what the person saw first.
// After two devices merge into one user, the person may have been exposed in both arms (each device
// had its own id before the login): such a person stays in the arm of the first exposure, and is
// counted in `crossovers`.
//
// The people counted are those with an exposure in [from, to); their arm is the one of their first
// exposure over ALL time (Store.reportExposures), as the profile's, so the arm never depends on the
// range read: someone held out last month and treated on a new device today is in the holdout, with
// one crossover, whatever the range. Their outcomes count from that first exposure, inside the range.
// The profile reads a device's first EXPOSURE_SCAN (500) exposures of any variant or prompt, the
// report each device's first of each; they differ only for a device exposed 500 times before it met
// a variant, whose profile then has no arm for it (that device keeps the arm its own id hashes to).

export type Arm = 'treatment' | 'holdout';
export type ExperimentKind = 'variant' | 'prompt';

const EXPOSURES: Record<string, { kind: ExperimentKind; arm: Arm; idProp: 'variant' | 'prompt' }> = {
  variant_applied: { kind: 'variant', arm: 'treatment', idProp: 'variant' },
  variant_held: { kind: 'variant', arm: 'holdout', idProp: 'variant' },
  prompt_shown: { kind: 'prompt', arm: 'treatment', idProp: 'prompt' },
  prompt_held: { kind: 'prompt', arm: 'holdout', idProp: 'prompt' },
};

/** The event types that expose a person to a variant or a prompt, in either arm. */
export const EXPOSURE_TYPES = Object.keys(EXPOSURES);

export interface Assignment {
  arm: Arm;
  /** The first exposure (epoch ms): outcomes count from it. */
  at: number;
}

export interface ExperimentArms {
  kind: ExperimentKind;
  id: string;
  /** Person key → their arm. */
  people: Map<string, Assignment>;
  /** People exposed in both arms (after a merge); counted in their first arm. */
  crossovers: number;
}

const idOf = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 64) : null);

/** The experiment (`variant:<id>` / `prompt:<id>`) an event exposes to, with its arm; null if none. */
function exposureOf(e: ReportEvent): { key: string; kind: ExperimentKind; id: string; arm: Arm } | null {
  const exposure = EXPOSURES[e.type];
  // A marketer's preview (?cairn_variant=) bypasses the holdout: never counted.
  if (!exposure || e.props.preview === true) return null;
  const id = idOf(e.props[exposure.idProp]);
  return id ? { key: `${exposure.kind}:${id}`, kind: exposure.kind, id, arm: exposure.arm } : null;
}

/**
 * Each variant's and prompt's arms: the people with an exposure among `events` in [from, to), each in
 * the arm of their first exposure among `events` and `history` (Store.reportExposures: every device's
 * first exposures over all time; without it, the range's own).
 */
export function assignArms(
  events: ReportRows['events'],
  who: People,
  range: { from: number; to: number },
  history: readonly ReportEvent[] = [],
): ExperimentArms[] {
  const counted = new Set<string>();
  for (const e of events) {
    const x = e.at >= range.from && e.at < range.to ? exposureOf(e) : null;
    if (x) counted.add(`${x.key}\n${who.of(e.deviceId).key}`);
  }
  const byKey = new Map<string, ExperimentArms & { crossed: Set<string> }>();
  // The first exposure wins: events in time order, then id.
  const sorted = [...history, ...events].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const e of sorted) {
    const exposure = exposureOf(e);
    if (!exposure) continue;
    const { key, id } = exposure;
    const person = who.of(e.deviceId).key;
    if (!counted.has(`${key}\n${person}`)) continue;
    let x = byKey.get(key);
    if (!x) byKey.set(key, (x = { kind: exposure.kind, id, people: new Map(), crossovers: 0, crossed: new Set() }));
    const first = x.people.get(person);
    if (!first) x.people.set(person, { arm: exposure.arm, at: e.at });
    else if (first.arm !== exposure.arm && !x.crossed.has(person)) {
      x.crossed.add(person);
      x.crossovers++;
    }
  }
  return [...byKey.values()].map(({ crossed: _, ...x }) => x);
}

/** What a person did from a given moment on, as the lift metrics count it. */
export interface Outcomes {
  optedIn: boolean;
  identified: boolean;
  purchased: boolean;
  /** In the report's currency. */
  revenue: number;
}

export const METRICS = ['optinRate', 'identifiedRate', 'purchaseRate', 'revenuePerVisitor'] as const;
export type Metric = (typeof METRICS)[number];

const metricValue: Record<Metric, (o: Outcomes) => number> = {
  optinRate: (o) => (o.optedIn ? 1 : 0),
  identifiedRate: (o) => (o.identified ? 1 : 0),
  purchaseRate: (o) => (o.purchased ? 1 : 0),
  revenuePerVisitor: (o) => o.revenue,
};

/** One metric's sums in each arm. */
export type MetricSums = Record<Metric, Record<Arm, ArmSums>>;

/** Adds each person's outcomes (from their first exposure) to their arm's sums. */
export function sumArms(arms: ExperimentArms, outcomesOf: (person: string, since: number) => Outcomes): MetricSums {
  const sums = Object.fromEntries(
    METRICS.map((m) => [m, { treatment: emptySums(), holdout: emptySums() }]),
  ) as MetricSums;
  for (const [person, { arm, at }] of arms.people) {
    const o = outcomesOf(person, at);
    for (const m of METRICS) addPerson(sums[m][arm], metricValue[m](o));
  }
  return sums;
}

export interface LiftRow {
  /** The variant's or prompt's id. */
  id: string;
  visitors: { treatment: number; holdout: number };
  /** People exposed in both arms (after devices merged): counted in the arm of their first exposure. */
  crossovers: number;
  metrics: Record<Metric, Comparison>;
}

export interface LiftReport {
  /** The interval's level: 0.95. */
  confidence: number;
  /** The minimum detectable (relative) effect the sample sizes and the no-difference band use. */
  mde: number;
  /** The currency revenue per visitor counts (orders in others count as purchases, with no revenue). */
  currency: string | null;
  variants: LiftRow[];
  prompts: LiftRow[];
}

/** Per person: their opt-in times, their identification time and their counted orders in [from, to). */
export function outcomesReader(
  rows: ReportRows,
  who: People,
  o: { from: number; to: number; confirmationRequired: boolean; currency?: string | undefined },
): { currency: string | null; outcomesOf: (person: string, since: number) => Outcomes } {
  const inRange = (at: number) => at >= o.from && at < o.to;
  const optinsAt = new Map<string, number[]>();
  const identifiedAt = new Map<string, number>();
  const orders = new Map<string, { at: number; value: number; currency: string }[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => void (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  for (const x of rows.optins) if (inRange(x.at)) push(optinsAt, who.of(x.deviceId).key, x.at);
  for (const d of rows.devices) {
    const p = who.of(d.deviceId);
    if (p.identifiedAt !== null) identifiedAt.set(p.key, p.identifiedAt);
  }
  // The purchases report's rules: one owner per order (its first reporter), confirmed ones when required.
  const counted = countedOrders(purchases(rows, who), o.confirmationRequired).filter((p) => inRange(p.at));
  const currency = o.currency ?? mainCurrency(counted);
  for (const p of counted) push(orders, who.of(p.deviceId).key, p);
  return {
    currency,
    outcomesOf(person, since) {
      const own = (orders.get(person) ?? []).filter((p) => p.at >= since);
      const linked = identifiedAt.get(person);
      return {
        optedIn: (optinsAt.get(person) ?? []).some((t) => t >= since),
        // Identified after the exposure: an account made before it cannot be the variant's doing.
        identified: linked !== undefined && linked >= since && inRange(linked),
        purchased: own.length > 0,
        revenue: own.reduce((sum, p) => sum + (p.currency === currency ? p.value : 0), 0),
      };
    },
  };
}

/** Lift for every variant and prompt with exposures in [from, to); `history`: see assignArms. */
export function liftReport(
  rows: ReportRows,
  who: People,
  o: { from: number; to: number; confirmationRequired: boolean; currency?: string | undefined; mde: number },
  history: readonly ReportEvent[] = [],
): LiftReport {
  const { currency, outcomesOf } = outcomesReader(rows, who, o);
  const row = (arms: ExperimentArms): LiftRow => {
    const sums = sumArms(arms, outcomesOf);
    const metrics = Object.fromEntries(
      METRICS.map((m) => [m, compareArms(sums[m].treatment, sums[m].holdout, { mde: o.mde })]),
    ) as Record<Metric, Comparison>;
    return {
      id: arms.id,
      visitors: { treatment: sums.optinRate.treatment.people, holdout: sums.optinRate.holdout.people },
      crossovers: arms.crossovers,
      metrics,
    };
  };
  const all = assignArms(rows.events, who, o, history);
  const byVisitors = (a: LiftRow, b: LiftRow) =>
    b.visitors.treatment + b.visitors.holdout - (a.visitors.treatment + a.visitors.holdout) || (a.id < b.id ? -1 : 1);
  return {
    confidence: 1 - ALPHA,
    mde: o.mde,
    currency,
    variants: all
      .filter((x) => x.kind === 'variant')
      .map(row)
      .sort(byVisitors),
    prompts: all
      .filter((x) => x.kind === 'prompt')
      .map(row)
      .sort(byVisitors),
  };
}
