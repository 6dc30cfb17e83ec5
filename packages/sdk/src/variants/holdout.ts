import type { DeviceState } from '../state/device-state.js';
import type { Profile } from '../types.js';

// Holdouts: a share of a variant's (or prompt's) audience kept on the default, to measure it
// against. The arm is a hash of the device id and the item, so it needs no storage and no network
// to decide before first paint; it is kept in the device state once decided, so it never flips,
// and a linked person's arms (from the profile: their first exposure on any device) replace it.
// Before consent there is no arm: the device id is then the page's own, made again on every page,
// so an arm drawn from it would be drawn again on every page. The visitor gets the item, and no
// exposure is counted; the arm is decided on the first page with consent, and kept from then on.

/** The share held out when neither the item nor `measurement.holdout` says (the schema's default). */
export const HOLDOUT = 0.1;

/**
 * Where `key` falls in [0, 1): 32-bit FNV-1a, then murmur3's finaliser (fmix32). FNV-1a alone has
 * no final mixing: a different last character shifts the place by a nearly fixed step, so two
 * items whose ids differ only at the end (`popin-1`, `popin-2`) would hold out the same people.
 */
export function place(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

/**
 * Held out (true) or treated, for `key` (a variant id; `prompt:<id>` for a prompt): the arm kept in
 * `state`, else decided from the device `id` and kept. A share of 0 holds no one out.
 */
export const heldOut = (state: DeviceState, id: string, key: string, share: number): boolean =>
  share > 0 && ((state._arms ||= {})[key] ??= place(id + ' ' + key) < share);

/** The prompt's key among the arms: its id would collide with a variant's. */
export const promptArm = (id: string): string => 'prompt:' + id;

/** Takes a linked person's arms, from the first exposure on any of their devices, over this device's. */
export function adoptArms(state: DeviceState, profile: Profile | undefined): void {
  const arms = profile?.arms;
  if (!arms) return;
  const kept = (state._arms ||= {});
  for (const [id, arm] of Object.entries(arms.variants || {})) kept[id] = arm == 'held';
  for (const [id, arm] of Object.entries(arms.prompts || {})) kept[promptArm(id)] = arm == 'held';
}
