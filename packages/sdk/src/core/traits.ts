import type { DeviceState } from '../state/device-state.js';
import type { Profile, Prompt, SiteConfig, Traits, Variant } from '../types.js';
import { arr } from '../util/arr.js';

// CRM traits on the device: an identified person's profile brings all of them (identify's answer,
// the profile pull); the sync state keeps only those the config names, in a variant's `when.traits`
// or a prompt's `audience.traits` (privacy, and bytes the head reads on every page). An anonymous
// device holds none; a logout or a denial wipes them with the rest of the state.

/**
 * Sets the traits `state` keeps from `profile`, for `config` (possibly unvalidated: read
 * defensively). When they change (a login, the store's backend), the visit's kept variant goes:
 * the next page decides afresh, with them, before first paint.
 */
export function keepTraits(state: DeviceState, profile: Profile | undefined, config: SiteConfig | undefined): void {
  const all = profile?.traits;
  // None named, or not identified: none kept, not even an empty set.
  let kept: Traits | undefined;
  for (const x of [
    ...arr<Variant>(config?.variants).map((v) => v?.when),
    ...arr<Prompt>(config?.prompts).map((p) => p?.audience),
  ])
    for (const k in (state._userId && x?.traits) || {}) {
      const value = all?.[k];
      kept ||= {};
      // Only a string, number or boolean: never something inherited (`constructor`).
      if (/^[bns]/.test(typeof value)) kept[k] = value!;
    }
  if (JSON.stringify(kept) != JSON.stringify(state._traits)) (state._traits = kept), (state._variant = undefined);
}
