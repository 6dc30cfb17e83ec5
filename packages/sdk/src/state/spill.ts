import { lsGet, lsRemove, lsSet } from '../json.js';
import type { CairnEvent } from '../types.js';
import { arr } from '../util/arr.js';

// Events a page had not seen stored when it was left, written synchronously at page hide (an
// IndexedDB write still in flight then may never commit), and taken into the outbox and the history
// by the next page. Ids dedupe: an event both spilled and stored, or sent, counts once.

export const SPILL_KEY = 'cairn.spill';

/** Adds events to the spill (the last 100 kept). */
export const spill = (events: CairnEvent[]): void => {
  if (events[0]) lsSet(SPILL_KEY, [...spilled(), ...events].slice(-100));
};

/** What earlier pages spilled. */
export const spilled = (): CairnEvent[] => arr<CairnEvent>(lsGet(SPILL_KEY));

/** Removes what was taken (another tab may have spilled more meanwhile). */
export const unspill = (taken: CairnEvent[]): void => {
  const left = spilled().filter((e) => !taken.some((t) => t.id == e.id));
  left[0] ? lsSet(SPILL_KEY, left) : lsRemove(SPILL_KEY);
};
