import { lsGet, lsRemove, lsSet } from '../json.js';
import type { CairnEvent } from '../types.js';
import { arr } from '../util/arr.js';

// Events a page had not seen stored when it was left, written synchronously at page hide (an
// IndexedDB write still in flight then may never commit), and taken into the outbox and the history
// by the next page. Ids dedupe: an event both spilled and stored, or sent, counts once.
//
// Stored under localStorage `cairn.spill` as `{ d: device id, e: events }`: the events are the
// device's, and only a page of that same device takes them (after a logout, or another subdomain's,
// they are not the new device's; they went by beacon too).

export const SPILL_KEY = 'cairn.spill';
/** Set by a page left with a denial or a logout queued: the next page's core wipes the storage first. */
export const WIPE_KEY = 'cairn.wipe';

export interface Spill {
  _device: string;
  _events: CairnEvent[];
}

/** What earlier pages spilled, and for which device. */
export const spilled = (): Spill => {
  const stored = lsGet(SPILL_KEY);
  return { _device: String(stored?.d), _events: arr<CairnEvent>(stored?.e) };
};

/** Adds a device's events to the spill (the last 100 kept); another device's spill is replaced. */
export const spill = (device: string, events: CairnEvent[]): void => {
  const earlier = spilled();
  if (events[0])
    lsSet(SPILL_KEY, { d: device, e: [...(earlier._device == device ? earlier._events : []), ...events].slice(-100) });
};

/** Removes what was taken (another tab may have spilled more meanwhile). */
export const unspill = (taken: CairnEvent[]): void => {
  const earlier = spilled();
  const left = earlier._events.filter((e) => !taken.some((t) => t.id == e.id));
  left[0] ? lsSet(SPILL_KEY, { d: earlier._device, e: left }) : lsRemove(SPILL_KEY);
};
