import type { DeviceKind } from '@cairn/schema';
import type { C } from '../context.js';
import { unauthorized } from '../errors.js';
import type { DeviceRecord, Store } from '../store/types.js';
import { hashToken, tokenForNewDevice, tokenMatches } from './device-token.js';

// Who may act for a device: the holder of its token. The routes that act for one device (collect,
// identify, opt-ins) all go through claimDevice.

export interface ClaimOptions {
  /** A token-less request may write to an anonymous device (collect: a client whose first answer was lost can still deliver). */
  open?: boolean;
  /** Make a device seen for the first time, of this kind. */
  create?: { kind?: DeviceKind | undefined };
}

/**
 * The token is the device's key, so a device the server knows needs its own. Only then is the
 * request counted against the device's rate limit (`c.var.limitDevice`), so a stranger's refused
 * requests use none of its allowance. With `create`, a device seen for the first time is made now,
 * keeping the token its client presents, else a new one (`made`, for the answer); made by a
 * concurrent first request meanwhile, that one's token decides. Resolves to the device's token hash
 * (unless an unknown device was not to be made).
 */
export async function claimDevice(
  c: C,
  store: Store,
  site: string,
  deviceId: string,
  token: string | null,
  options: ClaimOptions = {},
): Promise<{ tokenHash?: string; made?: string }> {
  const refused = (d: DeviceRecord) =>
    token === null ? !options.open || d.userId !== null : !tokenMatches(token, d.tokenHash);
  const refusal = () => unauthorized('this device needs its device token as "Authorization: Bearer <token>"');
  const device = await store.getDevice(site, deviceId);
  if (device && refused(device)) throw refusal();
  c.var.limitDevice(site, deviceId);
  if (device || !options.create) return { tokenHash: device?.tokenHash };
  const fresh = tokenForNewDevice(token);
  const tokenHash = hashToken(fresh.token);
  if (await store.ensureDevice(site, deviceId, tokenHash, options.create.kind))
    return fresh.made ? { tokenHash, made: fresh.token } : { tokenHash };
  const now = await store.getDevice(site, deviceId);
  if (!now || refused(now)) throw refusal();
  return { tokenHash: now.tokenHash };
}

/** GET /v1/profile's rule: a token is required, and an unknown device answers as a wrong token does. */
export async function requireDeviceToken(
  c: C,
  store: Store,
  site: string,
  deviceId: string,
  token: string | null,
): Promise<DeviceRecord> {
  if (token === null) throw unauthorized('the device token is required as "Authorization: Bearer <token>"');
  const device = await store.getDevice(site, deviceId);
  // Unknown device and wrong token answer alike, so the answer tells nothing about which devices exist.
  if (!device || !tokenMatches(token, device.tokenHash)) throw unauthorized('wrong device token');
  c.var.limitDevice(site, deviceId);
  return device;
}
