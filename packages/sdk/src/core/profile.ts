import type { CairnError } from '../errors.js';
import type { Kv, Profile } from '../types.js';
import type { Device } from './device.js';
import type { Transport } from './transport.js';

// The synced profile (merged across devices once identified), kept in the Kv under `pf` with its
// ETag under `pe`, so pages render from it at once and offline. An anonymous device holds its own
// history already and pulls nothing; an identified one pulls with If-None-Match, so an unchanged
// profile costs a 304 and no body.

/**
 * Pulls the profile of an identified device, or of any device that subdomains share (`shared`: a
 * cookie domain), whose history is partly in another origin's storage, and whose login may have
 * happened there. Resolves to the profile (undefined when not pulled).
 */
export async function pullProfile(
  kv: Kv,
  device: Device,
  transport: Transport,
  shared?: unknown,
): Promise<Profile | undefined> {
  const id = device._id;
  const state = device._state;
  if (!state._tokenKnown || !(state._userId || shared)) return;
  const [cached, etag] = await Promise.all([kv.get<Profile>('pf'), kv.get<string>('pe')]);
  const response = await transport
    ._send('profile', 0, '&deviceId=' + id, cached && etag ? { 'if-none-match': etag } : undefined)
    .catch((e: CairnError) => {
      // The server no longer knows this token: forget it; the next collect gets a new one.
      if (e.status == 401 && device._id == id)
        device._update((s) => (s._token = s._tokenKnown = s._traits = undefined)), kv.del('pf'), kv.del('pe');
      throw e;
    });
  // A logout, or another user on a shared computer, moved this page to a new device meanwhile:
  // this answer is the old one's profile.
  if (device._id != id) return;
  if (response.status == 304) return cached;
  const profile: Profile = await response.json();
  // And again once the body is in: a logout may have come while it arrived (here or in another tab).
  device._load();
  if (device._id != id) return;
  kv.set('pe', response.headers.get('etag'));
  await kv.set('pf', profile);
  return profile;
}
