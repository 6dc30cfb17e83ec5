import { createHash, randomUUID } from 'node:crypto';
import type { CairnEvent, DeviceKind, OptinBody, SiteConfig } from '@cairn/schema';
import { orderIdOf } from './order-id.js';
import type { ExposureRow, ItemRow, PageRow, TouchRow } from './profile.js';
import type { DeviceRecord, OrderConfirmation, ReportRows, StoredConfig, UserExport } from './types.js';

// Row shaping shared by both stores, so they write and read the same way: each store keeps only its SQL.

/**
 * A JSON column's value: SQLite returns the text, PostgreSQL's jsonb the parsed value. Every JSON
 * column holds an object (or NULL), so a string is always text to parse.
 */
export function jsonColumn(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/**
 * How many recent product (or category) sightings a profile read takes per device to find its
 * distinct ones: bounded, so the read stays flat however long the history grows.
 */
export const ITEM_SCAN = 500;

/** An event split into the columns the profile queries filter on, and the rest of its props as JSON. */
export interface EventCols {
  id: string;
  type: string;
  at: number;
  /** Only on page views: the profile reads its product and category lists from these columns, through the page rows' index. */
  product: string | null;
  category: string | null;
  /** Only on touches: lets "last non-Direct touch" use a partial index instead of scanning. */
  channel: string | null;
  /** The form factor the event says it was seen on, if any. */
  device: DeviceKind | null;
  /** Only on purchases: the order it claims (orderIdOf), so every claim of an order is found by index. */
  orderId: string | null;
  body: string;
}

export function eventCols(e: CairnEvent): EventCols {
  const { id, type, at, ...rest } = e;
  const page = type === 'page';
  return {
    id,
    type,
    at,
    product: page && typeof rest.product === 'string' ? rest.product : null,
    category: page && typeof rest.category === 'string' ? rest.category : null,
    channel: type === 'touch' && rest.touch && typeof rest.touch.channel === 'string' ? rest.touch.channel : null,
    device: asKind(rest.device),
    orderId: type === 'purchase' ? orderIdOf(rest.orderId) : null,
    // Throws on what JSON cannot hold (BigInt, cycles): callers do this inside the transaction or before it.
    body: JSON.stringify(rest),
  };
}

/**
 * Keeps the first of each event id and sorts by id. The sort gives every concurrent writer the same
 * lock order on Postgres, so overlapping batches wait for each other instead of deadlocking.
 */
export function uniqueById(rows: EventCols[]): EventCols[] {
  const seen = new Map<string, EventCols>();
  for (const r of rows) if (!seen.has(r.id)) seen.set(r.id, r);
  return [...seen.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** An `events` row as the privacy export reads it. */
export interface EventRow {
  id: string;
  device_id: string;
  type: string;
  at: number;
  body: unknown;
}

/** Rebuilds a stored event (for the privacy export) from its columns and JSON body. */
export function eventFromRow(r: EventRow): CairnEvent & { deviceId: string } {
  const body = jsonColumn(r.body);
  const props = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  return { ...props, id: r.id, type: r.type, at: r.at, deviceId: r.device_id } as CairnEvent & { deviceId: string };
}

export function asKind(v: unknown): DeviceKind | null {
  return v === 'mobile' || v === 'desktop' ? v : null;
}

/** A strong HTTP ETag (quotes included) derived from the config's JSON: the same config, the same ETag. */
export function etagOf(json: string): string {
  return `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
}

/** Compares an If-Match value with an ETag, ignoring quotes and a weak `W/` prefix. `*` matches any. */
export function etagMatches(ifMatch: string, etag: string): boolean {
  const bare = (s: string) =>
    s
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
  const m = ifMatch.trim();
  return m === '*' || m.split(',').some((one) => bare(one) === bare(etag));
}

/** A `configs` row as both databases return it. */
export interface ConfigRow {
  json: string;
  etag: string;
  updated_at: number;
}

export function configFromRow(r: ConfigRow): StoredConfig {
  return { config: JSON.parse(r.json) as SiteConfig, etag: r.etag, updatedAt: r.updated_at };
}

export interface OptinRow {
  site: string;
  id: string;
  device_id: string;
  email: string;
  consent_text: string;
  at: number;
  prompt_id: string | null;
  touch: unknown;
}

export function optinFromRow(r: OptinRow): OptinBody {
  const touch = jsonColumn(r.touch);
  const o: OptinBody = {
    id: r.id,
    site: r.site,
    deviceId: r.device_id,
    email: r.email,
    consentText: r.consent_text,
    at: r.at,
  };
  if (r.prompt_id !== null) o.promptId = r.prompt_id;
  if (touch !== null && touch !== undefined) o.touch = touch as OptinBody['touch'];
  return o;
}

/** A `devices` row as both databases return it. */
export interface DeviceRow {
  site: string;
  device_id: string;
  token_hash: string;
  user_id: string | null;
  kind: string | null;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
}

export function deviceRecord(r: DeviceRow): DeviceRecord {
  return {
    site: r.site,
    deviceId: r.device_id,
    tokenHash: r.token_hash,
    userId: r.user_id,
    kind: asKind(r.kind),
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    revokedAt: r.revoked_at,
  };
}

/** A `links` row as the privacy export reads it. */
export interface LinkRow {
  device_id: string;
  at: number;
  action: 'linked' | 'conflict';
}

/** Everything the privacy export read about a user, from one snapshot, as the export's shape. */
export function userExportFromRows(
  site: string,
  userId: string,
  rows: {
    links: LinkRow[];
    devices: Pick<DeviceRow, 'device_id' | 'kind' | 'created_at'>[];
    events: EventRow[];
    optins: OptinRow[];
  },
): Omit<UserExport, 'traits' | 'triggerEpisodes'> {
  return {
    site,
    userId,
    links: rows.links.map((l) => ({ deviceId: l.device_id, at: l.at, action: l.action })),
    devices: rows.devices.map((d) => ({ deviceId: d.device_id, kind: asKind(d.kind), createdAt: d.created_at })),
    events: rows.events.map(eventFromRow),
    optins: rows.optins.map(optinFromRow),
  };
}

/** The rows the reports read, as both databases return them. `body` is only there for REPORT_BODY_TYPES. */
export interface ReportRowsRead {
  events: { id: string; device_id: string; type: string; at: number; device: string | null; body: unknown }[];
  optins: { id: string; device_id: string; at: number; prompt_id: string | null }[];
  devices: { device_id: string; kind: string | null; user_id: string | null; linked_at: number | null }[];
  orderClaims: { id: string; order_id: string; device_id: string; at: number; received_seq: number; body: unknown }[];
  orderConfirmations: OrderConfirmationRow[];
}

/** An `order_confirmations` row as both databases return it. */
export interface OrderConfirmationRow {
  order_id: string;
  value: number;
  currency: string;
  device_id: string | null;
  confirmed_at: number;
}

export function orderConfirmationFromRow(r: OrderConfirmationRow): OrderConfirmation {
  return {
    orderId: r.order_id,
    value: r.value,
    currency: r.currency,
    deviceId: r.device_id,
    confirmedAt: r.confirmed_at,
  };
}

/** The first claim of an order, and the user its device is linked to. */
export interface FirstClaimRow {
  device_id: string;
  user_id: string | null;
}

/** Whether a claim by `deviceId` (linked to `userId`) comes from the person who made the first claim. */
export function sameClaimer(first: FirstClaimRow, deviceId: string, userId: string | null): boolean {
  return first.device_id === deviceId || (userId !== null && first.user_id === userId);
}

/** The devices behind an order's claims and confirmations, for the reports' device list. */
export function claimerDevices(
  claims: readonly { device_id: string }[],
  confirmations: readonly { device_id: string | null }[],
): string[] {
  const ids = new Set(claims.map((c) => c.device_id));
  for (const c of confirmations) if (c.device_id !== null) ids.add(c.device_id);
  return [...ids];
}

/** Whether a stored confirmation says the same as a new one (a retry), whenever it was made. */
export function sameConfirmation(a: OrderConfirmation, b: OrderConfirmation): boolean {
  return a.orderId === b.orderId && a.value === b.value && a.currency === b.currency && a.deviceId === b.deviceId;
}

export function reportRowsFromRows(rows: ReportRowsRead): ReportRows {
  return {
    devices: rows.devices.map((d) => ({
      deviceId: d.device_id,
      kind: asKind(d.kind),
      userId: d.user_id,
      linkedAt: d.user_id === null ? null : d.linked_at,
    })),
    events: rows.events.map((e) => ({
      id: e.id,
      deviceId: e.device_id,
      type: e.type,
      at: e.at,
      device: asKind(e.device),
      props: (jsonColumn(e.body) as Record<string, unknown> | null) ?? {},
    })),
    optins: rows.optins.map((o) => ({ id: o.id, deviceId: o.device_id, at: o.at, promptId: o.prompt_id })),
    orderClaims: rows.orderClaims.map((c) => ({
      id: c.id,
      orderId: c.order_id,
      deviceId: c.device_id,
      at: c.at,
      seq: c.received_seq,
      props: (jsonColumn(c.body) as Record<string, unknown> | null) ?? {},
    })),
    orderConfirmations: rows.orderConfirmations.map(orderConfirmationFromRow),
  };
}

// The profile's rows: `deviceId` is the device the query read them for.

export function pageFromRow(r: Record<string, unknown>, deviceId: string): PageRow {
  return { id: r.id as string, at: r.at as number, deviceId, body: jsonColumn(r.body) as Record<string, unknown> };
}

export function itemFromRow(r: Record<string, unknown>, deviceId: string): ItemRow {
  return { id: r.id as string, value: r.value as string, at: r.at as number, deviceId, device: r.device };
}

/** `preview` comes as 1 (SQLite's JSON true) or 'true' (PostgreSQL's ->>). */
export function exposureFromRow(r: Record<string, unknown>): ExposureRow {
  const preview = r.preview === 1 || r.preview === true || r.preview === 'true';
  return { id: r.id as string, at: Number(r.at), type: r.type as string, item: r.item, preview };
}

export function touchFromRow(r: Record<string, unknown>): TouchRow {
  return { id: r.id as string, at: r.at as number, touch: jsonColumn(r.touch) };
}

/** A device as Store.profileVersion reads it. */
export interface ProfileVersionRow {
  device_id: string;
  kind: string | null;
  user_id: string | null;
  profile_version: number | string;
}

/**
 * Store.profileVersion from its parts: retention's count of deletions (null only without its row:
 * then a version unlike any other, so that nothing is reused), the user's traits as stored, and the
 * person's devices, put in device id order here. Counters as text: PostgreSQL's bigint is a string.
 */
export function profileVersionOf(deletions: string | null, traits: unknown, devices: ProfileVersionRow[]): string {
  return JSON.stringify([
    deletions ?? `unknown ${randomUUID()}`,
    traits ?? null,
    devices
      .map((d) => [d.device_id, d.kind, d.user_id, String(d.profile_version)])
      .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0)),
  ]);
}

/**
 * A chunk's bytes as both drivers bind a BLOB / bytea: a Buffer (better-sqlite3 refuses a plain
 * Uint8Array, postgres.js would send it as text), over the same memory.
 */
export function bytesParam(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A BLOB / bytea column's value (a Buffer from either driver), copied into bytes of its own. */
export function bytesColumn(value: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(value);
}

/**
 * Chunks in name order, as both stores write them: two instances keeping the same build, or one
 * keeping while another prunes, lock its rows in the same order (no deadlock on PostgreSQL).
 */
export function chunksByName<T extends { name: string }>(chunks: readonly T[]): T[] {
  return [...chunks].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
