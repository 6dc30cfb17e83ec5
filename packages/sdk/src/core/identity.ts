import { CairnError } from '../errors.js';
import { lsSet } from '../json.js';
import type { IdentifyResponse, Profile } from '../types.js';
import type { Core } from './context.js';
import { pendingRevocation, REVOKE_KEY, revoke, revoked, type Revocation } from './revoke.js';

// Identity: identify links this device to a user with a token the storefront's backend signed;
// reset (logout) has the server revoke the device's token, wipes the device and starts a new
// anonymous one. They run one at a time, so they never interleave.

export interface Identity {
  _identify(userId: string, token: string): Promise<Profile>;
  _reset(): Promise<void>;
}

export function createIdentity(core: Core): Identity {
  const { _device: device, _kv: kv, _transport: transport, _site: site } = core;
  let chain: Promise<unknown> = core._ready;
  const serial = <T>(f: () => Promise<T>): Promise<T> => (chain = chain.catch(() => {}).then(f)) as Promise<T>;

  // A logout the server never confirmed (offline, or the page closed at once): asked again now.
  core._ready.then(() => {
    const r = pendingRevocation();
    r && transport._usable() && revoke(transport, site, r);
  });

  /**
   * A new anonymous device: what the old one had not sent goes first; then the server is asked to
   * revoke the old one's token, and its answer awaited a moment (no longer: a slow server must not
   * hold the logout); then everything is wiped but that request, kept until the server answers.
   */
  const restart = async () => {
    await core._outbox._flush();
    device._load();
    const token = device._state._token;
    const old: Revocation | false = !!token && !!transport._usable() && { d: device._id, t: token };
    let answered: unknown;
    if (old) {
      lsSet(REVOKE_KEY, old);
      await Promise.race([
        revoke(transport, site, old).then((done) => (answered = done)),
        new Promise((resolve) => setTimeout(resolve, 2e3)),
      ]);
    }
    // The new device first, stored as unsettled before the old one is wiped: another tab that writes
    // meanwhile follows it instead of writing the old device back. Consent is not identity: an
    // explicit grant survives.
    device._state = { _granted: device._state._granted };
    device._id = device._create();
    device._save();
    // Without consent nothing was saved here: the stored state is the old one, and goes too.
    await core._wipe(core._granted() ? 1 : undefined);
    if (old && !answered) lsSet(REVOKE_KEY, old);
    // The old device's server-set cookie expires: this browser's next visit is not the old device.
    transport._forget();
    core._act(Date.now());
    device._keepId();
    core._emitter._fire('reset');
  };

  const identify = async (userId: string, token: string): Promise<Profile> => {
    if (!userId || !token) throw new CairnError('invalid');
    device._load();
    const had = device._state._userId == userId && (await kv.get<Profile>('pf'));
    if (had) return had;
    // A device linked to someone else (a shared computer) first becomes a new device.
    if (device._state._userId && device._state._userId != userId) await restart();
    await core._outbox._flush();
    let id = device._id;
    // A logout the server never confirmed goes along: revoked once this device is linked.
    let previous: Revocation | undefined;
    const post = () =>
      transport._request<IdentifyResponse>('identify', {
        site,
        deviceId: (id = device._id),
        userId,
        token,
        device: core._deviceKind,
        previous: (previous = pendingRevocation()) && { deviceId: previous.d, token: previous.t },
      });
    const answer = await post().catch(async (e: CairnError) => {
      // Linked to someone else on the server (409), or the server wants a device token this device
      // lost (401, not about the identity token): as a fresh device, then again. Unless another tab
      // moved to a new device meanwhile (a logout there, which revoked this one): this login was for
      // the old device, and fails with it.
      device._load();
      if (
        device._id == id &&
        (e.status == 409 ||
          (e.status == 401 &&
            (await (e.cause as Response | undefined)?.json().catch(() => {}))?.error != 'invalid_identity'))
      )
        return restart().then(post);
      throw e;
    });
    previous && revoked(previous);
    // A denial, or a logout in another tab, while it was on its way: the answer is for a device
    // this page no longer is, and nothing of it is kept.
    device._load();
    if (!core._granted() || device._id != id) return answer.profile;
    device._update((s) => ((s._userId = userId), (s._tokenKnown = 1)));
    kv.del('pe');
    await kv.set('pf', answer.profile);
    core._emitter._fire('identify', answer.profile);
    return answer.profile;
  };

  return {
    _identify: (userId, token) => serial(() => identify(userId, token)),
    _reset: () => serial(restart),
  };
}
