import type { CairnEvent, DeviceKind, OptinBody, Profile, SiteConfig, Traits } from '@cairn/schema';
import type { ReportRequest, ReportResult } from '../reports/compute.js';

// The one storage interface. SQLite (embedded default) and PostgreSQL (DATABASE_URL) implement it
// and pass the same test suite. Every method that writes is one transaction: all or nothing.

/** A profile with the version it was read at (Store.versionedProfile). */
export interface VersionedProfile {
  profile: Profile;
  version: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** True when this call created the device (its first collect). */
  newDevice: boolean;
  /**
   * Purchases stored by this call for an order another person (user, else device, as linked at that
   * moment) reported first: the reports ignore them. Absent when there were none.
   */
  orderConflicts?: number;
}

export type LinkResult =
  /** The device is now linked to the user. */
  | 'linked'
  /** It already was: a no-op. */
  | 'already'
  /** It is linked to another user: nothing changed. */
  | 'conflict'
  /** The login token was used by another device already: nothing changed. */
  | 'login_used';

/** A login token, recorded as used by the device it links (single use). */
export interface LoginUse {
  /** SHA-256 of the token, hex. */
  tokenHash: string;
  /** The token's expiry, epoch seconds: the record can go after it. */
  exp: number;
}

export interface DeviceRecord {
  site: string;
  deviceId: string;
  tokenHash: string;
  userId: string | null;
  kind: DeviceKind | null;
  createdAt: number;
  /** Its token's last use, epoch ms, recorded at most once a day (null: never recorded, see createdAt). */
  lastSeenAt: number | null;
  /** When its token was revoked (logout), epoch ms; null while it is valid. */
  revokedAt: number | null;
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
  /** The user's CRM traits ({} when none were set). */
  traits: Traits;
  /** Their trigger episodes (under the user's key or a device's), oldest first, with the webhook body made for each. */
  triggerEpisodes: ExportedEpisode[];
}

/** A trigger episode as the privacy export lists it. */
export interface ExportedEpisode {
  id: string;
  triggerId: string;
  status: string;
  reason: string | null;
  startedAt: number;
  lastAt: number;
  createdAt: number;
  deliveredAt: number | null;
  /** The webhook body, once the episode was due (null before, or when it was cancelled). */
  payload: unknown;
}

/** Event types whose JSON body the reports read; the others come without it (page views are the bulk). */
export const REPORT_BODY_TYPES = [
  'touch',
  'purchase',
  'add_to_cart',
  'variant_applied',
  'variant_held',
  'prompt_shown',
  'prompt_held',
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

/** `Store.reportExposures`: first exposures over all time, in time order (then id), and their devices. */
export interface ReportExposures {
  devices: ReportDevice[];
  events: ReportEvent[];
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

/** A purchase event that names an order: a client's claim that the order is theirs. */
export interface ReportOrderClaim {
  /** The event's id. */
  id: string;
  /** Normalised (store/order-id.ts). */
  orderId: string;
  deviceId: string;
  /** The client's time for it: places the order in time, never decides between claims. */
  at: number;
  /** The server's receive order: the first claim of an order is the one with the lowest. */
  seq: number;
  props: Record<string, unknown>;
}

/** An order the site's backend confirmed with a signed token (POST /v1/orders/confirm). */
export interface OrderConfirmation {
  orderId: string;
  /** The backend's value and currency: they replace the client's. */
  value: number;
  currency: string;
  /** The device the backend says placed the order (its `cairn_id` cookie), when the token names one. */
  deviceId: string | null;
  /** When the server first received it (epoch ms). */
  confirmedAt: number;
}

/** 'confirmed': stored; 'already': the same confirmation was stored before; 'conflict': a different one was. */
export type ConfirmOrderResult = 'confirmed' | 'already' | 'conflict';

/** What reclaimErased() managed to do; `detail` says what is left when it is not complete. */
export interface ReclaimResult {
  complete: boolean;
  detail: string;
}

/** What the reports are computed from, read from one snapshot. */
export interface ReportRows {
  /** Every device with an event or opt-in in the range, or with a claim or confirmation below. */
  devices: ReportDevice[];
  /** Ordered by time, then id. */
  events: ReportEvent[];
  optins: ReportOptin[];
  /**
   * Every claim, whatever its time, of the orders claimed in the range or confirmed in it, in
   * receive order: the first claim of an order may be outside the range.
   */
  orderClaims: ReportOrderClaim[];
  /** The confirmations of those orders. */
  orderConfirmations: OrderConfirmation[];
}

/** A device's events in a report's read window, aggregated in the database: page views never reach JS one by one. */
export interface ReportActivity {
  deviceId: string;
  /** Its first and last event in the report's range [from, to); null when all its events are before `from`. */
  firstInRange: number | null;
  lastInRange: number | null;
}

/** What `Store.reportData` reads, from one snapshot: ReportRows without the page views, plus each device's activity. */
export interface ReportData extends ReportRows {
  /**
   * Every device with an event in [readFrom, to), in the order of its first event there (time, then
   * id): the order ReportRows' events would introduce them in.
   */
  activity: ReportActivity[];
  /** Only the REPORT_BODY_TYPES events of [readFrom, to), ordered by time, then id. */
  events: ReportEvent[];
}

// Traits: a user's CRM traits from the store's backend (store/traits-sqlite.ts, traits-postgres.ts; rules in store/traits-rows.ts).

/** A user's traits as stored: `updatedAt` (epoch ms) is their last change, 0 when none was ever set. */
export interface StoredTraits {
  traits: Traits;
  updatedAt: number;
}

/** PUT replaces every trait; PATCH merges (null removes a key); DELETE removes one key. */
export type TraitsChange =
  | { kind: 'replace'; traits: Traits }
  | { kind: 'merge'; traits: Record<string, string | number | boolean | null> }
  | { kind: 'remove'; key: string };

/**
 * A change's outcome: stored, the user unknown (a removal never creates one), or too many keys
 * (nothing changed): how many there would be, and the first key past MAX_TRAITS.
 */
export type TraitsResult =
  | StoredTraits
  | { refused: 'unknown_user' }
  | { refused: 'too_many'; count: number; key: string };

// Deliveries (triggers/deliver.ts): a trigger episode's row in trigger_episodes is the delivery's ledger.

export type EpisodeStatus = 'open' | 'pending' | 'retrying' | 'delivered' | 'failed' | 'cancelled';

/** An episode's delivery, claimed for one attempt by `Store.claimDelivery`. */
export interface DeliveryClaim {
  site: string;
  id: string;
  triggerId: string;
  url: string;
  /** The webhook's JSON body, fixed when the episode became pending: every attempt sends these bytes. */
  payload: string;
  /** This attempt's number, 1 for the first. */
  attempt: number;
  firstAttemptAt: number;
  /** The claim holds the row until then; the outcome is recorded only under this claim. */
  leaseUntil: number;
}

export type DeliveryOutcome =
  | { kind: 'delivered'; at: number; status: number }
  | { kind: 'retry'; at: number; nextAttemptAt: number; status: number | null; error: string | null }
  | { kind: 'failed'; at: number; status: number | null; error: string | null };

/** An episode whose next attempt is due and not held by a claim. */
export interface DueDelivery {
  site: string;
  id: string;
  /** Attempts made so far: the next one is `attempts + 1`. */
  attempts: number;
  nextAttemptAt: number;
}

/** A row of the delivery log (GET /v1/deliveries). `person` is the raw 'u:<userId>' / 'd:<deviceId>'. */
export interface DeliveryLogRow {
  id: string;
  triggerId: string;
  status: EpisodeStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  reason: string | null;
  person: string;
  /** `trigger.on` from the payload, when the episode has one. */
  on: string | null;
  createdAt: number;
  dueAt: number | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  updatedAt: number;
}

/** An episode written straight as pending (tests; a resend by hand): the payload is final. */
export interface NewDelivery {
  site: string;
  id: string;
  triggerId: string;
  person: string;
  url: string;
  payload: string;
  startedAt: number;
  lastAt: number;
  /** When its first attempt is due. */
  nextAttemptAt: number;
  now: number;
}

// Triggers: a person's episodes (store/triggers-sqlite.ts, triggers-postgres.ts; logic in triggers/episodes.ts).

/** Why an episode was cancelled (trigger_episodes.reason). */
export type EpisodeCancelReason =
  | 'purchase'
  | 'cart_emptied'
  | 'add_to_cart'
  | 'min_product_views'
  | 'unreachable'
  | 'cooldown'
  | 'denied'
  | 'audience'
  | 'merged'
  | 'config_removed';

/** What one collect batch does to the person's episodes, worked out from the site's triggers. */
export interface EpisodeNotes {
  /** Opens the person's open episode of each trigger, or extends it: started_at = min, last_at = max, due_at = last_at + after. */
  extend: { triggerId: string; firstAt: number; lastAt: number; afterMs: number }[];
  /**
   * Cancels the person's episodes of these triggers (all their devices' and their user's): 'started'
   * those started at or before `at`, 'last' those whose last event is at or before it. `undelivered`:
   * pending and retrying ones too, else only open ones.
   */
  cancel: {
    triggerIds: string[];
    reason: EpisodeCancelReason;
    at: number;
    until: 'started' | 'last';
    undelivered: boolean;
  }[];
}

export interface Episode {
  site: string;
  id: string;
  triggerId: string;
  /** 'u:<user id>' or 'd:<device id>'. */
  person: string;
  startedAt: number;
  lastAt: number;
  dueAt: number;
}

/** What a due episode is decided on, read in the transaction that holds it. */
export interface EpisodeFacts {
  /** Re-keyed to the user when its device got linked since. */
  episode: Episode;
  userId: string | null;
  /** Every device of the person (the user's linked ones, or the one anonymous device). */
  devices: { deviceId: string; kind: DeviceKind | null; deniedAt: number | null }[];
  /** Distinct products viewed (page events with `product`) since started_at, on any of them. */
  productViews: number;
  /** An add_to_cart since started_at. */
  addedToCart: boolean;
  /** A purchase since started_at. */
  purchased: boolean;
  /** A cart_emptied at or after last_at (no add_to_cart after it). */
  cartEmptied: boolean;
  /** The add_to_cart products since started_at, newest first, one per product. */
  cart: { id: string; at: number; device?: DeviceKind }[];
  /** The newest opt-in's address on any of the devices, or null. */
  email: string | null;
  /** The newest delivery of any trigger to this person (its user key or any of its devices' keys). */
  lastDeliveredAt: number | null;
}

export type EpisodeDecision =
  | { status: 'pending'; url: string; payload: string }
  | { status: 'cancelled'; reason: EpisodeCancelReason };

/** An episode made pending: its delivery is due at `nextAttemptAt`. */
export interface PendingEpisode {
  site: string;
  id: string;
  nextAttemptAt: number;
}

/** A stored episode, as tests and the delivery log read it. */
export interface EpisodeRecord extends Episode {
  status: 'open' | 'pending' | 'retrying' | 'delivered' | 'failed' | 'cancelled';
  reason: string | null;
  url: string | null;
  payload: string | null;
  attempts: number;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
  updatedAt: number;
}

// The SDK's chunks (sdk/sdk-chunks.ts): every one this deployment's instances shipped, kept in the database.

/** One of the SDK's chunk files: its name (`cairn-<name>.<content hash>.js`, checked by the caller) and bytes. */
export interface SdkChunkFile {
  name: string;
  bytes: Uint8Array;
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
  /**
   * A short read that changes whenever the device's profile may: the person's devices (kind, user,
   * and a counter that every write of their events or opt-ins raises), the user's traits, and a count
   * of retention's deletions. Equal versions, equal profiles, whichever instance wrote meanwhile.
   */
  profileVersion(site: string, deviceId: string): Promise<string>;
  /** The profile and its version (profileVersion), read together from one snapshot. */
  versionedProfile(site: string, deviceId: string): Promise<VersionedProfile>;

  /**
   * Links a device to a user and records the link (time, device) for audit. With `login`, in the
   * same transaction, the login token is recorded as this device's: another device's earlier use
   * answers 'login_used' (and nothing changes); this device's own is no obstacle.
   */
  link(site: string, deviceId: string, userId: string, at: number, login?: LoginUse): Promise<LinkResult>;
  /** The device a login token (by its hash) linked, or null when it is unused. */
  loginUsedBy(site: string, tokenHash: string): Promise<string | null>;
  /** Removes the used-login records that expired before `exp` (epoch seconds). Resolves to how many. */
  pruneUsedLogins(exp: number): Promise<number>;
  /**
   * Retention: deletes up to `limit` events whose `at` is before `cutoff` (epoch ms), in one
   * statement, and resolves to how many. Nothing else goes: devices, links, opt-ins and order
   * confirmations stay; the devices' bounds (first and last event time) are read again from their
   * remaining events. On PostgreSQL, concurrent calls on the same devices take turns: the later one
   * finds fewer events left, and may end its pass early while the other goes on.
   */
  deleteEventsBefore(cutoff: number, limit: number): Promise<number>;
  /**
   * Revokes a device's token (logout), if it is `tokenHash`; a device never seen is recorded as
   * revoked, so that the token can never adopt it later. Resolves to false (nothing changed) when
   * the device holds another token. Revoking again is a no-op.
   */
  revokeDevice(site: string, deviceId: string, tokenHash: string, at: number): Promise<boolean>;
  /** Records a use of the device's token (`last_seen_at`), unless one at `at` or later is recorded. */
  touchDevice(site: string, deviceId: string, at: number): Promise<void>;

  /** The device a server cookie's secret (by its SHA-256) is bound to, and since when (kept across rotations), or null. */
  serverCookieDevice(site: string, secretHash: string): Promise<{ deviceId: string; boundAt: number } | null>;
  /** Binds a new server-cookie secret (its SHA-256) to the device, replacing the device's earlier one. */
  bindServerCookie(site: string, deviceId: string, secretHash: string, at: number): Promise<void>;
  /**
   * Recovery, in one transaction: when `oldHash` is still the device's binding and its token is not
   * revoked, the binding becomes `newHash` (its time kept: a rotation never extends it) and the token
   * `newTokenHash` (used at `at`). Resolves to
   * false when nothing changed (a concurrent recovery or a logout won).
   */
  rotateServerCookie(
    site: string,
    deviceId: string,
    oldHash: string,
    newHash: string,
    newTokenHash: string,
    at: number,
  ): Promise<boolean>;
  /** Removes the binding of this secret (a denial, a reset): that cookie recovers nothing any more. */
  unbindServerCookie(site: string, secretHash: string): Promise<void>;

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
  /**
   * Removes the user, their links, every event of their linked devices and those devices' server
   * cookie bindings; the devices stay, anonymous.
   */
  deleteUser(site: string, userId: string): Promise<boolean>;
  /**
   * After an erasure, gets the deleted rows out of the database files as far as the database can:
   * SQLite (secure_delete on) checkpoints its WAL into the main file and truncates it; PostgreSQL
   * VACUUMs the tables an erasure touches, outside any transaction. Rejects on a database error.
   */
  reclaimErased(): Promise<ReclaimResult>;

  /** Records a backend's confirmation of an order, idempotently: the first one stays. */
  confirmOrder(site: string, confirmation: OrderConfirmation): Promise<ConfirmOrderResult>;

  /**
   * The events (every one, page views included) and opt-ins with `from <= at < to`, and the devices
   * they came from. The reports read `reportData`; this is what they read before, kept as the
   * reference their results are tested against (test/reports-in-db.test.ts).
   */
  reportRows(site: string, from: number, to: number): Promise<ReportRows>;
  /**
   * What the reports read, aggregated in the database: as `reportRows(site, readFrom, to)` but with
   * only the REPORT_BODY_TYPES events, and every device's activity (its first and last event in
   * [from, to)) in place of the rest, from one snapshot (on PostgreSQL a REPEATABLE READ
   * transaction). The routes never call it here: `computeReport` reads the same in its worker.
   */
  reportData(site: string, readFrom: number, from: number, to: number): Promise<ReportData>;
  /**
   * A report computed where its rows are read: reportData over the request's window and the
   * reports' code (reports/compute.ts), in a worker thread with its own connection on both
   * databases, so neither the reads nor the attribution hold the thread serving collects. Only the
   * finished report comes back. (An in-memory SQLite database, having no file to share, computes it
   * on its own connection.)
   */
  computeReport<R extends ReportRequest>(request: R): Promise<ReportResult<R>>;

  /**
   * For the people (a device and every device linked to the same user) with a variant or prompt
   * exposure in [from, to): each device's first exposure of each type to each variant and prompt
   * over ALL time (a preview is not one), and those devices. The lift report's arms come from it.
   */
  reportExposures(site: string, from: number, to: number): Promise<ReportExposures>;

  // Traits
  /** The user's traits, or null when the site has no such user. */
  getTraits(site: string, userId: string): Promise<StoredTraits | null>;
  /**
   * Applies a change to the user's traits in one transaction, creating the user (not yet linked to
   * any device) when a replace or merge names an unknown one: the CRM knows people before they log
   * in on the site. A merge whose result holds over MAX_TRAITS keys changes nothing.
   */
  changeTraits(site: string, userId: string, change: TraitsChange, at: number): Promise<TraitsResult>;

  // Deliveries
  /**
   * Claims the next attempt of an episode's delivery, in one conditional UPDATE: only when it is
   * pending or retrying, due (`next_attempt_at <= now`) and no live claim holds it (lease expired).
   * Sets `lease_until = now + leaseMs`, counts the attempt, and records the first attempt's time.
   * Resolves to null when another worker (or instance) holds it or it is not due or over.
   */
  claimDelivery(site: string, id: string, now: number, leaseMs: number): Promise<DeliveryClaim | null>;
  /** The episode's status now (null: no such episode): re-read after a claim, right before sending. */
  deliveryStatus(site: string, id: string): Promise<EpisodeStatus | null>;
  /**
   * Records an attempt's outcome, only under its claim (the same attempt number and lease): a late
   * writer whose lease was taken over changes nothing, unless it is a 2xx: that is recorded even
   * over a later attempt or a cancellation that came during the send (it was delivered); never over
   * 'delivered' or 'failed'. Resolves to whether it was.
   */
  recordDelivery(
    site: string,
    id: string,
    claim: { attempt: number; leaseUntil: number },
    outcome: DeliveryOutcome,
  ): Promise<boolean>;
  /** Episodes, every site, whose attempt is due at `now` and not claimed, the longest waiting first. */
  dueDeliveries(now: number, limit: number): Promise<DueDelivery[]>;
  /** The site's delivery log, newest (last updated) first; without `status`, every episode but the open ones. */
  listDeliveries(site: string, opts: { status?: EpisodeStatus; limit: number }): Promise<DeliveryLogRow[]>;
  /** Writes an episode as pending, due at `nextAttemptAt` (tests, resends). */
  addDelivery(delivery: NewDelivery): Promise<void>;

  // Triggers

  /** Applies a collect batch's notes to the person's episodes, in one transaction (one statement each). */
  noteEpisodes(site: string, deviceId: string, notes: EpisodeNotes, now: number): Promise<void>;
  /**
   * Takes up to `limit` open episodes due at `now`, each in its own transaction that holds it (PostgreSQL:
   * FOR UPDATE SKIP LOCKED, so two instances never take one), re-keys or merges it when its device got
   * linked, reads its facts, and writes what `decide` says. Resolves to the episodes made pending. An
   * episode whose evaluation fails (`decide` rejects) stays open, is skipped for the rest of this call,
   * and goes to `onError`. Each one it cancelled (merged included), once written, goes to `onCancelled`.
   */
  evaluateDueEpisodes(
    now: number,
    limit: number,
    decide: (facts: EpisodeFacts) => Promise<EpisodeDecision>,
    onError?: (episodeId: string, error: unknown) => void,
    onCancelled?: (episodeId: string, reason: EpisodeCancelReason) => void,
  ): Promise<PendingEpisode[]>;
  /** Records the device's refusal of consent, and cancels its person's undelivered episodes ('denied'). */
  denyDevice(site: string, deviceId: string, at: number): Promise<void>;
  /** A site's episodes, newest change first (tests; the delivery log reads its own query). */
  listEpisodes(site: string, limit: number): Promise<EpisodeRecord[]>;
  /**
   * Retention: deletes up to `limit` closed episodes (delivered, failed, cancelled) last changed before
   * `cutoff`, every site, in one statement; resolves to how many. Open and undelivered ones stay.
   */
  deleteClosedEpisodesBefore(cutoff: number, limit: number): Promise<number>;

  // SDK chunks

  /**
   * Records chunks as shipped at `at`, in one transaction, in name order: a name not stored yet is
   * inserted with its bytes; a stored one keeps its bytes (a name holds their hash) and only its
   * `seen_at` moves forward. Names are not checked here: the caller passes only CHUNK_NAME's.
   */
  keepSdkChunks(chunks: SdkChunkFile[], at: number): Promise<void>;
  /** A kept chunk's bytes, or null when none of that name is kept. */
  sdkChunk(name: string): Promise<Uint8Array<ArrayBuffer> | null>;
  /**
   * Deletes the chunks last seen before `before` (epoch ms); resolves to how many. A row another
   * transaction holds (being kept right now) is skipped, not waited for.
   */
  pruneSdkChunks(before: number): Promise<number>;
}
