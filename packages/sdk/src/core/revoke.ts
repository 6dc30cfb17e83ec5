import type { CairnError } from '../errors.js';
import { lsGet, lsRemove } from '../json.js';
import type { Transport } from './transport.js';

// Logout on the server: POST /v1/logout revokes a device's token. A logout the server has not
// confirmed is kept in localStorage (`cairn.revoke`: `{ d: device id, t: its token }`), the one
// thing about the old device that outlives its wipe, and asked again at the next page and along
// with the next login (identify's `previous`). A consent denial sends the same request with
// `reason: 'denied'` (src/core/consent-change.ts): the server records the refusal, and no trigger
// fires on the device's history. That one is not kept: nothing of the visitor outlives a denial.

export const REVOKE_KEY = 'cairn.revoke';

/** A device whose token is to be revoked: its id and token; `r: 'denied'` for a consent denial (never kept). */
export interface Revocation {
  d: string;
  t: string;
  r?: 'denied';
}

/** The logout waiting for the server's answer, if any. */
export const pendingRevocation = (): Revocation | undefined => lsGet(REVOKE_KEY);

/** The server answered about this device's logout: it is not asked again. */
export const revoked = (r: Revocation): unknown => pendingRevocation()?.d == r.d && lsRemove(REVOKE_KEY);

/**
 * Asks the server to revoke the device's token: fetch with keepalive (it outlives the page), else,
 * when it could not leave (offline, the page going), a beacon with the token in its body. Resolves
 * to whether the server answered for good: yes, or a refusal that would fail forever (a 4xx but
 * 429); then the pending revocation goes. Never rejects.
 */
export const revoke = (transport: Transport, site: string, r: Revocation): Promise<unknown> =>
  transport
    ._send('logout', { site, deviceId: r.d, reason: r.r }, '', { authorization: 'Bearer ' + r.t })
    .then(
      () => 1,
      ({ status }: CairnError) => {
        // Status 0: the request never reached the server. Not sent at all (no consent): no beacon either.
        if (status == 0)
          navigator.sendBeacon?.(
            transport._url('logout'),
            JSON.stringify({ site, deviceId: r.d, deviceToken: r.t, reason: r.r }),
          );
        return status! > 399 && status! < 500 && status != 429;
      },
    )
    .catch(() => 0)
    .then((done) => (done && revoked(r), done));
