import type { CairnEvent, DeviceKind, OptinBody, Profile, SiteConfig } from '@cairn/schema';

// The one storage interface. SQLite (embedded default) and PostgreSQL (DATABASE_URL) implement it
// and pass the same test suite. Every method that writes is one transaction: all or nothing.

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** True when this call created the device (its first collect): the caller hands out the token. */
  newDevice: boolean;
}

export type LinkResult =
  /** The device is now linked to the user. */
  | 'linked'
  /** It already was: a no-op. */
  | 'already'
  /** It is linked to another user: nothing changed. */
  | 'conflict';

export interface DeviceRecord {
  site: string;
  deviceId: string;
  tokenHash: string;
  userId: string | null;
  kind: DeviceKind | null;
  createdAt: number;
}

export interface StoredConfig {
  config: SiteConfig;
  etag: string;
  updatedAt: number;
}

export interface UserExport {
  site: string;
  userId: string;
  /** Every link record about the user: `linked`, and `conflict` when a device linked to someone else refused them. */
  links: { deviceId: string; at: number; action: 'linked' | 'conflict' }[];
  devices: { deviceId: string; kind: DeviceKind | null; createdAt: number }[];
  events: (CairnEvent & { deviceId: string })[];
  optins: OptinBody[];
}

/** Event types whose JSON body the reports read; the others come without it (page views are the bulk). */
export const REPORT_BODY_TYPES = [
  'touch',
  'purchase',
  'add_to_cart',
  'variant_applied',
  'prompt_shown',
  'prompt_dismissed',
  'prompt_submitted',
] as const;

/** A device seen in a report's range, with the user it is linked to and when that link was made. */
export interface ReportDevice {
  deviceId: string;
  kind: DeviceKind | null;
  userId: string | null;
  /** When this device was linked to `userId` (epoch ms), null when anonymous. */
  linkedAt: number | null;
}

export interface ReportEvent {
  id: string;
  deviceId: string;
  type: string;
  at: number;
  /** The form factor the event says it was seen on. */
  device: DeviceKind | null;
  /** The event's props for REPORT_BODY_TYPES; `{}` for every other type. */
  props: Record<string, unknown>;
}

export interface ReportOptin {
  id: string;
  deviceId: string;
  at: number;
  promptId: string | null;
}

/** What the reports are computed from, read from one snapshot. */
export interface ReportRows {
  /** Every device with an event or opt-in in the range. */
  devices: ReportDevice[];
  /** Ordered by time, then id. */
  events: ReportEvent[];
  optins: ReportOptin[];
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending versioned migrations. Safe when several instances start at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the database answers a trivial query (for /healthz); rejects otherwise. */
  ping(): Promise<void>;

  /**
   * Stores a batch in one transaction. Events already stored for the site (same id) are skipped and
   * counted as duplicates. Creates the device with `tokenHash` if it does not exist yet.
   */
  ingest(
    site: string,
    deviceId: string,
    events: CairnEvent[],
    tokenHash: string,
    kind?: DeviceKind,
  ): Promise<IngestResult>;
  getDevice(site: string, deviceId: string): Promise<DeviceRecord | null>;
  /** Creates the device if missing (identify before any collect). Resolves to whether it was created. */
  ensureDevice(site: string, deviceId: string, tokenHash: string, kind?: DeviceKind): Promise<boolean>;

  /** The device's profile; once linked, the user's merged profile across all linked devices, capped. */
  profile(site: string, deviceId: string): Promise<Profile>;

  /** Links a device to a user and records the link (time, device) for audit. */
  link(site: string, deviceId: string, userId: string, at: number): Promise<LinkResult>;

  getConfig(site: string): Promise<StoredConfig | null>;
  /**
   * Saves a validated config. `ifMatch`: a string refuses ('conflict') unless it is the current
   * ETag; null (If-None-Match: *) refuses when a config is stored already, so two first saves
   * cannot both win; undefined saves whatever is there.
   */
  putConfig(site: string, config: SiteConfig, ifMatch?: string | null): Promise<StoredConfig | 'conflict'>;

  /** Idempotent by `optin.id`. */
  addOptin(optin: OptinBody): Promise<'created' | 'duplicate'>;

  /** Everything held about a user (privacy export), or null if unknown. */
  exportUser(site: string, userId: string): Promise<UserExport | null>;
  /** Removes the user, their links and every event of their linked devices; the devices stay, anonymous. */
  deleteUser(site: string, userId: string): Promise<boolean>;

  /** The events and opt-ins with `from <= at < to`, and the devices they came from (for the reports). */
  reportRows(site: string, from: number, to: number): Promise<ReportRows>;
}
