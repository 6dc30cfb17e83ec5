import { LIMITS, type DeviceKind, type Profile, type Touch, type Traits } from '@cairn/schema';

// Shapes the rows both stores read into a Profile. Pure: the stores only fetch bounded row sets
// (newest N per device, through indexes) and everything about merging, ordering and caps is here.

/** A page view as read: its event id, time, device and remaining props. */
export interface PageRow {
  id: string;
  at: number;
  deviceId: string;
  body: Record<string, unknown>;
}

/** A product or category sighting: the value, and the page view (event id, time, device) it came from. */
export interface ItemRow {
  id: string;
  value: string;
  at: number;
  deviceId: string;
  /** The event's own `device` prop, if it had one. */
  device: unknown;
}

export interface TouchRow {
  id: string;
  at: number;
  touch: unknown;
}

/** The exposure events a holdout counts: which arm a person saw a variant or prompt in. */
export const EXPOSURE_TYPES = ['variant_applied', 'variant_held', 'prompt_shown', 'prompt_held'] as const;
/** How many of a device's earliest exposures the profile reads: an item first seen after them keeps the device's own arm. */
export const EXPOSURE_SCAN = 500;

/** An exposure: its type, the variant or prompt id it names, and whether it was a marketer's preview. */
export interface ExposureRow {
  id: string;
  at: number;
  type: string;
  item: unknown;
  preview: boolean;
}

export interface ProfileRows {
  userId: string | null;
  /** The device kind per device id: the fallback for events that carry no `device` prop. */
  kinds: ReadonlyMap<string, DeviceKind | null>;
  pages: PageRow[];
  products: ItemRow[];
  categories: ItemRow[];
  /** Newest touches of each device. */
  touches: TouchRow[];
  /** Each device's earliest touch: the profile's first touch is the earliest of these. */
  firstTouches: TouchRow[];
  /** Each device's latest non-Direct touch. */
  lastTouches: TouchRow[];
  optedIn: boolean;
  /** Each device's earliest exposures (EXPOSURE_SCAN at most); left out by a store that reads none. */
  exposures?: ExposureRow[];
  /** The linked user's CRM traits; undefined for an anonymous device, or a user without any. */
  traits?: Traits | undefined;
}

export function emptyProfile(userId: string | null = null): Profile {
  return {
    userId,
    pageViews: [],
    products: [],
    categories: [],
    touches: [],
    firstTouch: null,
    lastTouch: null,
    optedIn: false,
  };
}

export function buildProfile(rows: ProfileRows): Profile {
  const kindOf = (deviceId: string, own: unknown): DeviceKind | undefined =>
    own === 'mobile' || own === 'desktop' ? own : (rows.kinds.get(deviceId) ?? undefined);

  const pageViews = newestFirst(unique(rows.pages))
    .slice(0, LIMITS.pageViews)
    .map((r) => {
      const b = r.body;
      const pv: Profile['pageViews'][number] = {
        id: r.id,
        path: str(b.path) ?? '',
        title: str(b.title) ?? '',
        at: r.at,
      };
      const product = str(b.product);
      const category = str(b.category);
      const device = kindOf(r.deviceId, b.device);
      if (product !== undefined) pv.product = product;
      if (category !== undefined) pv.category = category;
      if (device) pv.device = device;
      return pv;
    });

  const items = (list: ItemRow[], cap: number): Profile['products'] => {
    const seen = new Set<string>();
    const out: Profile['products'] = [];
    for (const r of newestFirst(unique(list))) {
      if (out.length >= cap) break;
      if (seen.has(r.value)) continue;
      seen.add(r.value);
      const device = kindOf(r.deviceId, r.device);
      out.push(device ? { id: r.value, at: r.at, device } : { id: r.value, at: r.at });
    }
    return out;
  };

  const touches = newestFirst(unique(rows.touches.filter(hasTouch))).slice(0, LIMITS.touches);
  const first = newestFirst(unique(rows.firstTouches.filter(hasTouch))).at(-1);
  const last = newestFirst(unique(rows.lastTouches.filter(hasTouch).filter((r) => r.touch.channel !== 'Direct')))[0];

  return {
    userId: rows.userId,
    pageViews,
    products: items(rows.products, LIMITS.products),
    categories: items(rows.categories, LIMITS.categories),
    touches: touches.map((r) => r.touch),
    firstTouch: first ? first.touch : null,
    lastTouch: last ? last.touch : null,
    optedIn: rows.optedIn,
    ...arms(rows.exposures ?? []),
    // Left out when there are none: an identified profile without traits is unchanged (its ETag too).
    ...(rows.traits && Object.keys(rows.traits).length > 0 ? { traits: rows.traits } : {}),
  };
}

/**
 * The person's arm of each variant and prompt: their first exposure's, on any of their devices
 * (earliest first, ties by event id). A preview is not an exposure. Left out when there is none.
 */
function arms(rows: ExposureRow[]): Pick<Profile, 'arms'> {
  const out: NonNullable<Profile['arms']> = { variants: {}, prompts: {} };
  let any = false;
  for (const r of [...unique(rows)].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const id = str(r.item);
    if (id === undefined || r.preview) continue;
    const list = r.type.startsWith('variant_') ? out.variants : out.prompts;
    list[id] ??= r.type.endsWith('_held') ? 'held' : 'treated';
    any = true;
  }
  return any ? { arms: out } : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Stored touches were validated on the way in; this only guards the shape the profile relies on. */
function hasTouch(r: TouchRow): r is TouchRow & { touch: Touch } {
  const t = r.touch as Partial<Touch> | null;
  return !!t && typeof t === 'object' && typeof t.channel === 'string' && typeof t.source === 'string';
}

/** One row per event id: the same event can reach the merge twice (e.g. read by two queries). */
function unique<R extends { id: string }>(rows: R[]): R[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.id) && (seen.add(r.id), true));
}

/** Newest first; equal times fall back to the event id so the order never depends on the query plan. */
function newestFirst<R extends { id: string; at: number }>(rows: R[]): R[] {
  return [...rows].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}
