import type { DeviceKind } from '@cairn/schema';
import type { ReportData, ReportExposures, ReportRows } from '../store/types.js';
import { activityOf } from './activity.js';
import { liftReport, type LiftReport } from './lift.js';
import { people } from './people.js';
import { countedOrders, purchases } from './purchases.js';
import { DEFAULT_MDE } from './sequential.js';

// Variant and prompt results for [from, to).
// Lift (the causal answer): each variant and prompt, treatment against holdout (reports/lift.ts).
// Variants, observed: a visitor of a variant is a person (a user across devices, or a device) it was
// applied to in the range; they convert when they opt in, or order, at or after their first exposure.
// The baseline is the people active in the range who got no variant at all, from their first
// activity; the held out (`variant_held`) are not in it: they belong to a variant's holdout. NOT CAUSAL: the people a variant matches differ from the others (an email visitor buys
// more with or without a variant); only the holdout comparison says what the variant itself does.
// Prompts: shown, dismissed and submitted events, and the opt-ins made through the prompt, by form factor.

type Rate = number | null;

export interface VariantRow {
  /** Null for the baseline: visitors who got no variant. */
  variant: string | null;
  visitors: number;
  optins: number;
  purchasers: number;
  optinRate: Rate;
  purchaseRate: Rate;
}

export type DeviceSlot = DeviceKind | 'unknown';

export interface PromptCounts {
  shown: number;
  dismissed: number;
  submitted: number;
  optins: number;
  /** submitted / shown */
  submitRate: Rate;
  /** dismissed / shown */
  dismissRate: Rate;
}

export interface PromptRow {
  prompt: string;
  total: PromptCounts;
  /** desktop and mobile always; unknown when some events said neither. */
  devices: Partial<Record<DeviceSlot, PromptCounts>> & Record<DeviceKind, PromptCounts>;
}

export interface ExperimentsReport {
  from: number;
  to: number;
  /** Treatment against holdout, per variant and per prompt, with always-valid intervals. */
  lift: LiftReport;
  /** Observed rates after exposure: not causal (see above). */
  variants: VariantRow[];
  /** People with no variant at all: not a control group, not causal. */
  baseline: VariantRow;
  prompts: PromptRow[];
}

export interface ExperimentsOptions {
  from: number;
  to: number;
  confirmationRequired?: boolean;
  currency?: string;
  mde?: number;
}

const ratio = (a: number, b: number): Rate => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);
const idOf = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 64) : null);

export function experimentsReport(
  rows: ReportRows | ReportData,
  o: ExperimentsOptions,
  exposures: ReportExposures = { devices: [], events: [] },
): ExperimentsReport {
  const { from, to } = o;
  const inRange = (at: number) => at >= from && at < to;
  // The exposures' devices too: a device linked to someone, exposed only before the range.
  const known = new Set(rows.devices.map((d) => d.deviceId));
  const who = people([...rows.devices, ...exposures.devices.filter((d) => !known.has(d.deviceId))]);
  const kinds = new Map(rows.devices.map((d) => [d.deviceId, d.kind]));

  // Per person: first activity, opt-in times and order times in the range.
  const firstSeen = new Map<string, number>();
  const optinsAt = new Map<string, number[]>();
  const ordersAt = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, at: number) => void (m.get(k) ?? m.set(k, []).get(k)!).push(at);
  const seen = (k: string, at: number) => {
    if (!firstSeen.has(k) || at < firstSeen.get(k)!) firstSeen.set(k, at);
  };
  for (const a of activityOf(rows, from, to)) if (a.firstInRange !== null) seen(who.of(a.deviceId).key, a.firstInRange);
  for (const x of rows.optins) {
    if (!inRange(x.at)) continue;
    const k = who.of(x.deviceId).key;
    seen(k, x.at);
    push(optinsAt, k, x.at);
  }
  for (const p of countedOrders(purchases(rows, who), o.confirmationRequired ?? false))
    if (inRange(p.at)) push(ordersAt, who.of(p.deviceId).key, p.at);

  // First exposure of each person to each variant.
  const firstApplied = new Map<string, Map<string, number>>();
  for (const e of rows.events) {
    // A marketer's preview (?cairn_variant=) is not an exposure.
    const v = e.type === 'variant_applied' && e.props.preview !== true && inRange(e.at) ? idOf(e.props.variant) : null;
    if (!v) continue;
    const k = who.of(e.deviceId).key;
    let m = firstApplied.get(v);
    if (!m) firstApplied.set(v, (m = new Map()));
    if (!m.has(k) || e.at < m.get(k)!) m.set(k, e.at);
  }
  const exposed = new Set([...firstApplied.values()].flatMap((m) => [...m.keys()]));
  // Held out of a variant: in its holdout, not in the "no variant" baseline.
  for (const e of rows.events)
    if (e.type === 'variant_held' && e.props.preview !== true && inRange(e.at)) exposed.add(who.of(e.deviceId).key);
  const variantRow = (variant: string | null, starts: Map<string, number>): VariantRow => {
    let optins = 0;
    let purchasers = 0;
    for (const [k, at] of starts) {
      if (optinsAt.get(k)?.some((t) => t >= at)) optins++;
      if (ordersAt.get(k)?.some((t) => t >= at)) purchasers++;
    }
    return {
      variant,
      visitors: starts.size,
      optins,
      purchasers,
      optinRate: ratio(optins, starts.size),
      purchaseRate: ratio(purchasers, starts.size),
    };
  };
  const variants = [...firstApplied]
    .map(([v, m]) => variantRow(v, m))
    .sort((a, b) => b.visitors - a.visitors || ((a.variant ?? '') < (b.variant ?? '') ? -1 : 1));
  const baseline = variantRow(null, new Map([...firstSeen].filter(([k]) => !exposed.has(k))));

  // Prompts, by the form factor the event names, else the device's.
  const counts = new Map<string, Map<DeviceSlot, Omit<PromptCounts, 'submitRate' | 'dismissRate'>>>();
  const bump = (prompt: string, slot: DeviceSlot, field: 'shown' | 'dismissed' | 'submitted' | 'optins') => {
    let byDevice = counts.get(prompt);
    if (!byDevice) counts.set(prompt, (byDevice = new Map()));
    const c = byDevice.get(slot) ?? { shown: 0, dismissed: 0, submitted: 0, optins: 0 };
    c[field]++;
    byDevice.set(slot, c);
  };
  const FIELDS = { prompt_shown: 'shown', prompt_dismissed: 'dismissed', prompt_submitted: 'submitted' } as const;
  for (const e of rows.events) {
    const field = FIELDS[e.type as keyof typeof FIELDS];
    const prompt = field && inRange(e.at) ? idOf(e.props.prompt) : null;
    if (!prompt || !field) continue;
    const d = e.props.device;
    bump(prompt, d === 'mobile' || d === 'desktop' ? d : (e.device ?? kinds.get(e.deviceId) ?? 'unknown'), field);
  }
  for (const x of rows.optins)
    if (x.promptId && inRange(x.at)) bump(x.promptId, kinds.get(x.deviceId) ?? 'unknown', 'optins');

  const finish = (c: Omit<PromptCounts, 'submitRate' | 'dismissRate'>): PromptCounts => ({
    ...c,
    submitRate: ratio(c.submitted, c.shown),
    dismissRate: ratio(c.dismissed, c.shown),
  });
  const zero = { shown: 0, dismissed: 0, submitted: 0, optins: 0 };
  const prompts = [...counts]
    .map(([prompt, byDevice]): PromptRow => {
      const total = { ...zero };
      for (const c of byDevice.values()) for (const k of Object.keys(zero) as (keyof typeof zero)[]) total[k] += c[k];
      const devices: PromptRow['devices'] = {
        desktop: finish(byDevice.get('desktop') ?? zero),
        mobile: finish(byDevice.get('mobile') ?? zero),
      };
      const unknown = byDevice.get('unknown');
      if (unknown) devices.unknown = finish(unknown);
      return { prompt, total: finish(total), devices };
    })
    .sort((a, b) => b.total.shown - a.total.shown || (a.prompt < b.prompt ? -1 : 1));

  const lift = liftReport(
    rows,
    who,
    {
      from,
      to,
      confirmationRequired: o.confirmationRequired ?? false,
      currency: o.currency,
      mde: o.mde ?? DEFAULT_MDE,
    },
    exposures.events,
  );
  return { from, to, lift, variants, baseline, prompts };
}
