import { lsSet } from '../json.js';
import { readState } from '../state/device-state.js';
import type { Consent } from '../types.js';
import { refused, validConsent } from './consent.js';
import type { Core } from './context.js';
import { revoke } from './revoke.js';

// A consent change made with cairn.consent(), or a denial in another tab.

/** The localStorage key a denying tab sets, so that the site's other tabs stop and forget too. */
export const DENIED_KEY = 'cairn.denied';

/** `told`: another tab denied, and told the server already. */
export function changeConsent(core: Core, consent: Consent, told?: 1): void {
  if (!validConsent(consent)) return;
  // The visitor's word outlasts the page, in a cookie that names no one: a denial leaves it, and
  // only a grant lifts it (on every call, even one that changes nothing here). 'pending' is the
  // site's call, not the visitor's: while the refusal is there, it stands.
  if (consent == 'pending') consent = refused() ? 'denied' : consent;
  else core._cookie._refuse(consent == 'denied');
  if (consent == core._consent) return;
  const { _device: device, _storage: storage, _transport: transport } = core;
  // Denied after a grant: before the wipe, the server hears it for the device it knew (a logout
  // with reason 'denied', kept alive past the page, else a beacon), while consent still lets it go.
  if (consent == 'denied' && !told) {
    device._load();
    const token = device._state._token;
    token && transport._usable() && revoke(transport, core._site, { d: device._id, t: token, r: 'denied' });
  }
  core._consent = consent;
  if (core._granted()) {
    // What this page held in memory joins what earlier visits stored; the earliest first touch
    // wins, and an earlier visit's device comes back with its token and user, unless the cookie
    // names another (follow).
    const old = readState();
    const state = (device._state = {
      ...old,
      ...device._state,
      _firstTouch: old?._firstTouch || device._state._firstTouch,
      _granted: 1,
    });
    if (old?._deviceId)
      (state._deviceId = device._id = old._deviceId),
        (state._token = old._token),
        (state._tokenKnown = old._tokenKnown),
        (state._userId = old._userId),
        (state._traits = old._traits);
    device._follow();
    storage.grant();
    device._save();
    device._keepId();
    core._sync();
  } else {
    storage.stop(consent == 'pending');
    // Denied: nothing of this visitor stays, in storage or in memory; a later grant is a new device.
    // The other tabs are told through a storage event (the key goes with the wipe), so that none
    // of them writes this visitor back.
    if (consent == 'denied') {
      device._state = {};
      device._id = device._create();
      lsSet(DENIED_KEY, 1);
      core._wipe().catch(() => {});
      // The server-set cookie too: script cannot remove an HttpOnly cookie, the server expires it.
      core._transport._forget();
    }
  }
}
