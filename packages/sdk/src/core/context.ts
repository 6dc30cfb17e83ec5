import type { DeviceStorage } from '../storage/kv.js';
import type { IdCookie } from '../storage/device-id.js';
import type { Consent, DeviceKind, Kv } from '../types.js';
import type { Device } from './device.js';
import type { Emitter } from './events.js';
import type { Outbox } from './outbox.js';
import type { Transport } from './transport.js';

/** What the core's parts share: made once by createCairn (src/cairn.ts). */
export interface Core {
  _site: string;
  _consent: Consent;
  /** Consent is granted: storage and network may be used. */
  _granted(): boolean;
  _storage: DeviceStorage;
  _kv: Kv;
  _cookie: IdCookie;
  _device: Device;
  _transport: Transport;
  _outbox: Outbox;
  _emitter: Emitter;
  _deviceKind: DeviceKind;
  /** Storage open and the device id settled. Never rejects. */
  _ready: Promise<void>;
  /** Activity now: it may start a new session after 30 minutes idle. */
  _act(at: number): void;
  /** Pulls the profile, sends the outbox, refreshes the config. */
  _sync(): void;
  /** Removes every trace of this device: cookie, storage, memory. */
  _wipe(keepState?: 1): Promise<void>;
}
