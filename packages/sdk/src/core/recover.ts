import { warn } from '../errors.js';
import type { RecoverResponse } from '@cairn/schema';
import type { Profile, SiteConfig } from '../types.js';
import type { Core } from './context.js';

// Recovery after script storage was wiped (Safari's ITP deletes it after 7 days without a visit):
// the sync server set an HttpOnly first-party cookie (identity.serverCookie) that survives, and
// POST /v1/recover, carrying it, gives the device back with a fresh token and its history. Asked
// once per page load, after first paint, only for a visitor the head found no id for, with
// consent; a text/plain POST, so one request and no preflight. Nothing to recover: a 204, and
// this page goes on with the device the head made.

/** The config, known by now (with the page, or cached), turns it on: an unknown one does not (no request for sites without it). */
export const recoverable = (config?: SiteConfig) => config?.identity?.serverCookie;

/** Asks the server, and takes the device back when it has one. Resolves to its profile, if any. Never rejects. */
export async function recover(core: Core): Promise<Profile | undefined> {
  const { _device: device, _transport: transport, _kv: kv } = core;
  const id = device._id;
  transport._held = 1;
  try {
    const response = await fetch(transport._url('recover'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ site: core._site }),
      credentials: 'include',
      signal: AbortSignal.timeout?.(1e4),
    });
    const answer: RecoverResponse | false = response.status == 200 && (await response.json());
    // A denial, or another tab's device (one it recovered, when this page got the 204 of losing that
    // race), while it was on its way: this page follows it, and is no longer the one that asked.
    device._load();
    if (!answer || !core._granted() || device._id != id) return;
    const profile = answer.profile;
    const state = device._state;
    state._deviceId = device._id = answer.deviceId;
    state._token = answer.deviceToken;
    state._tokenKnown = 1;
    state._newDeviceId = undefined;
    state._userId = profile.userId || undefined;
    // The first touch is the visitor's real one; this landing's stays this session's (and the last, if a campaign's).
    state._firstTouch = profile.firstTouch || state._firstTouch;
    state._lastTouch ||= profile.lastTouch;
    device._save();
    device._keepId();
    await kv.set('pf', profile);
    return profile;
  } catch (e) {
    warn(e);
  } finally {
    transport._held = 0;
  }
}
