import { warn } from '../errors.js';
import { deviceOf, newDevice, overStored, readState, writeState, type DeviceState } from '../state/device-state.js';
import type { IdCookie } from '../storage/device-id.js';
import { DEVICE_KEYS } from '../storage/keys.js';
import type { Kv } from '../types.js';

// The device and its state across tabs. The sync state in localStorage is shared by the site's
// tabs: each change is made on top of the latest stored state, so no tab's write is lost, and a tab
// follows the device another tab moved to (a reset there, or the first tab of a first visit).
// The id cookie names the device too, and wins over a stale copy in storage.

export interface Device {
  /** This tab's view of the sync state. */
  _state: DeviceState;
  /** The device this tab records for: the state's, or a memory id where cookies are blocked. */
  _id: string;
  /** The id the Kv mirror (`id`) is known to hold: it is written only when it changes. */
  _mirrored?: string;
  /** Takes other tabs' changes (and, with a cookie domain, other subdomains'). */
  _load(): void;
  /** Stores the state, with consent. */
  _save(): void;
  /** Changes the state on top of the latest stored one. */
  _update(change: (state: DeviceState) => unknown): void;
  /** The cookie's device wins over another in this origin's storage. */
  _follow(): void;
  /** A new device id with its own random token, which the server adopts: no answer needs to arrive. */
  _create(): string;
  /** Writes the id cookie, and settles the id when the cookie sticks (cookies blocked: memory only). */
  _keepId(): void;
  /** Moves this tab, and the stored state first (unsettled, so that other tabs follow), to a fresh anonymous device. */
  _renew(): void;
}

export interface DeviceOptions {
  /** The state this page decided before first paint, stored over the latest one at start. */
  _state: DeviceState;
  _granted: () => boolean;
  _cookie: IdCookie;
  _cookieDomain?: string | null;
  _kv: Kv;
  /** This tab moved to another device: what it held unsent was the old one's. */
  _moved: () => void;
}

export function createDevice(o: DeviceOptions): Device {
  const { _cookie: cookie, _kv: kv, _cookieDomain: cookieDomain } = o;
  const granted = o._granted;
  const device: Device = {
    _state: granted() ? overStored(readState(), o._state) : o._state,
    _id: '',
    _load() {
      const stored = granted() && readState();
      if (stored) {
        // Another tab's device, settled or just made (a reset there): this tab follows it.
        const id = deviceOf(stored);
        if (id && id != device._id) (device._id = id), o._moved();
        device._state = stored;
      }
      if (cookieDomain) device._follow();
    },
    _save() {
      const state = device._state;
      // With a cookie domain, subdomains share the cookies but not their storage: the cookies carry
      // the token beside the id, and follow every change of either.
      if (granted()) writeState(state), cookieDomain && state._deviceId && cookie.set(state._deviceId, state._token);
    },
    _update(change) {
      device._load();
      change(device._state);
      device._save();
    },
    _follow() {
      const id = granted() && cookie.get();
      if (!id) return;
      let state = device._state;
      if (id != device._id) {
        // With a cookie domain another subdomain moved it (a reset there, whose storage is its own):
        // what this origin held of the old device goes, as reset() wipes it where it runs.
        if (cookieDomain && state._deviceId) {
          for (const key of DEVICE_KEYS) kv.del(key).catch(warn);
          // At start, the head already began this page afresh for the new device (its session and
          // touch stay); later, this tab starts afresh.
          state = device._state = starting ? { ...o._state } : { _granted: state._granted };
        }
        state._deviceId = device._id = id;
        state._token = state._userId = state._tokenKnown = state._traits = undefined;
        o._moved();
      }
      state._token ||= cookie.token();
    },
    _create: () => newDevice(device._state),
    _keepId() {
      if (!granted()) return;
      device._load();
      const id = device._id;
      if (cookie.set(id, device._state._token)) {
        device._update((state) => ((state._deviceId = id), (state._newDeviceId = undefined)));
        if (device._mirrored != id) kv.set('id', (device._mirrored = id)).catch(warn);
      } else device._update((state) => (state._newDeviceId = undefined));
    },
    _renew() {
      const state = device._state;
      device._id = device._create();
      state._userId = state._tokenKnown = state._deviceId = state._traits = undefined;
      device._save();
      device._keepId();
      // The old device's (maybe a user's merged) profile is not the fresh one's.
      kv.del('pf').catch(warn);
      kv.del('pe').catch(warn);
    },
  };
  device._id = (granted() && deviceOf(device._state)) || '';
  let starting = 1;
  device._follow();
  starting = 0;
  device._id ||= device._create();
  return device;
}
