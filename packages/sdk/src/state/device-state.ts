import { lsGet, lsSet } from '../json.js';
import type { Touch, Traits } from '../types.js';
import { uuid } from '../uuid.js';

// What the SDK keeps synchronously about the device: one JSON value in localStorage under `cairn`,
// shared by the site's tabs. It exists so that the session, the touches and the variant are decided
// before first paint, without awaiting IndexedDB.
//
// The stored format is fixed, versioned (`v: 1`) and pinned by test/stored-format.test.ts: its keys
// are one letter. In memory the fields have full names; readState and writeState are the only code
// that knows both, so renaming a field never changes what a visitor's browser holds.

export interface DeviceState {
  /** The device id, settled: the id cookie holds it (stored `d`). */
  _deviceId?: string;
  /**
   * A device id a tab made and has not settled yet (`n`): a tab starting meanwhile takes it, with
   * its token, instead of making another (two tabs of a first visit are one device).
   */
  _newDeviceId?: string;
  /** The first touch ever (`f`), the last non-Direct one (`l`), this session's (`c`). */
  _firstTouch?: Touch | null;
  _lastTouch?: Touch | null;
  _sessionTouch?: Touch | null;
  /** The session id (`s`) and its last activity in epoch ms (`a`). */
  _sessionId?: string;
  _lastActivity?: number;
  /** This session's sticky variant (`x`): an id, null for "none", absent when not decided. */
  _variant?: string | null;
  /** The device's token (`t`): made here with a new device id (the server adopts it), or the server's. */
  _token?: string;
  /** The sync server holds the token: a request carrying it succeeded (`k`). */
  _tokenKnown?: 1;
  /** The identified user id (`u`). */
  _userId?: string;
  /** Consent was granted explicitly, with cairn.consent('granted') (`g`). */
  _granted?: 1;
  /** The holdouts' arms (`h`): variant id, or `prompt:<id>`, to true when held out (src/variants/holdout.ts). */
  _arms?: Record<string, boolean>;
  /**
   * The identified person's CRM traits that the config names (`r`), from their profile: what a
   * variant's `when.traits` is decided on before first paint. Never on an anonymous device.
   */
  _traits?: Traits;
}

export const STATE_KEY = 'cairn';

/** The stored state; undefined when there is none, or it is broken or of another version. */
export function readState(): DeviceState | undefined {
  const s = lsGet(STATE_KEY);
  if (s?.v == 1)
    return {
      _deviceId: s.d,
      _newDeviceId: s.n,
      _firstTouch: s.f,
      _lastTouch: s.l,
      _sessionTouch: s.c,
      _sessionId: s.s,
      _lastActivity: s.a,
      _variant: s.x,
      _token: s.t,
      _tokenKnown: s.k,
      _userId: s.u,
      _granted: s.g,
      _arms: s.h,
      _traits: s.r,
    };
}

/** Stores the state (JSON leaves out what is undefined); quietly nothing where storage is unavailable. */
export const writeState = (s: DeviceState): void =>
  lsSet(STATE_KEY, {
    v: 1,
    d: s._deviceId,
    n: s._newDeviceId,
    f: s._firstTouch,
    l: s._lastTouch,
    c: s._sessionTouch,
    s: s._sessionId,
    a: s._lastActivity,
    x: s._variant,
    t: s._token,
    k: s._tokenKnown,
    u: s._userId,
    g: s._granted,
    h: s._arms,
    r: s._traits,
  });

/** The device this state names: settled, else just made. */
export const deviceOf = (s: DeviceState): string | undefined => s._deviceId || s._newDeviceId;

/** Makes a new device on `s`: an unsettled id, with the token the server will adopt it with. Returns the id. */
export const newDevice = (s: DeviceState): string => ((s._token = uuid()), (s._newDeviceId = uuid()));

/**
 * This page's state laid over the latest stored one, when the page first writes it (after first
 * paint): the device (id, token, user, explicit grant) as stored, since another tab may have made,
 * settled or reset it meanwhile, and the traits with the user; the session, touches and variant as this page decided them before
 * first paint. The earliest first touch wins, and an arm kept before (another tab's) over this page's.
 */
export const overStored = (stored: DeviceState | undefined, page: DeviceState): DeviceState =>
  stored && deviceOf(stored)
    ? {
        ...page,
        _deviceId: stored._deviceId,
        _newDeviceId: stored._newDeviceId,
        _token: stored._token,
        _tokenKnown: stored._tokenKnown,
        _userId: stored._userId,
        _traits: stored._traits,
        _granted: stored._granted || page._granted,
        _firstTouch: stored._firstTouch || page._firstTouch,
        _arms: stored._arms ? { ...page._arms, ...stored._arms } : page._arms,
      }
    : page;
