// Versioned schema changes, one list per dialect. Append new steps; never edit an applied one.
// Each store's migrate() applies the missing versions in one transaction and records them in
// schema_migrations, under a lock so that two instances starting together apply each step once.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The WHERE clause of the partial index events_report (migration 10): every event but page views, the
 * bulk of the table. A query reads through the index only when it says this clause word for word
 * (REPORT_QUERIES, reportExposures). Not a list of the report's types: SQLite evaluates an IN list
 * through a temporary table for each row inserted, which cost collect more than the index itself.
 */
export const REPORT_INDEX_WHERE = "type <> 'page'";

/** Retention's day of an event (events_day, migration 10): the expression its queries say word for word. */
export const EVENT_DAY = 'at / 86400000';
/** EVENT_DAY in JS: the day of a time. */
export const eventDay = (at: number): number => Math.floor(at / 86_400_000);

/** Migration 10's reasons, the same in both dialects. */
const MIGRATION_10_WHY = `-- Collect writes less, reports read less. A time-ordered index that every event enters costs collect
-- dearly: a batch's events land among the other devices' recent ones, a leaf page each (bench:
-- ingestion). Page views, the bulk of a collect, never enter events_report below.
-- So events_at goes, and what read through it reads elsewhere:
--   - each device's activity in a report's window, from the time of its first and last stored
--     event, kept on its row by the write that stores, deletes or erases its events (one row a
--     batch, already written for its profile version); a device's events are searched only when its
--     bounds straddle the window's edge (REPORT_QUERIES.activity);
--   - the events the reports read by body, from a partial index of every event but page views;
--   - retention's old events, from the day of their time: one key a day, so a batch appends.
-- Its WHERE clause is REPORT_INDEX_WHERE (above): a query must say it word for word for the
-- planners to take the partial index.`;

/** Migration 11's reasons, the same in both dialects. */
const MIGRATION_11_WHY = `-- The SDK's chunks (cairn-<name>.<content hash>.js) that this deployment's instances shipped: each
-- instance keeps its installed build's at start and daily (seen_at), so that any instance serves a
-- chunk another one's head named, across a rolling deploy, a restart or a long-lived tab, for 30
-- days after the last instance shipping it (sdk/sdk-chunks.ts). A name holds its bytes' hash: a
-- row is never rewritten but for seen_at. Public code, no personal data: nothing to export or
-- erase. A few rows a build: no index but the name's.`;

// STRICT tables make SQLite refuse a wrongly typed value instead of storing it, as Postgres does.
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial tables',
    sql: `
CREATE TABLE devices (
  site TEXT NOT NULL,
  device_id TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  user_id TEXT,
  kind TEXT CHECK (kind IN ('mobile', 'desktop')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site, device_id)
) STRICT;
CREATE INDEX devices_user ON devices (site, user_id) WHERE user_id IS NOT NULL;

CREATE TABLE events (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  type TEXT NOT NULL,
  at INTEGER NOT NULL CHECK (at >= 0),
  product TEXT,
  category TEXT,
  channel TEXT,
  device TEXT,
  body TEXT NOT NULL CHECK (json_valid(body)),
  PRIMARY KEY (site, id)
) STRICT;
CREATE INDEX events_device_type_at ON events (site, device_id, type, at DESC);
-- Covering: the product and category lists are read from the index alone.
CREATE INDEX events_product ON events (site, device_id, at DESC, product, device, id) WHERE product IS NOT NULL;
CREATE INDEX events_category ON events (site, device_id, at DESC, category, device, id) WHERE category IS NOT NULL;
CREATE INDEX events_campaign ON events (site, device_id, at DESC) WHERE type = 'touch' AND channel <> 'Direct';

CREATE TABLE links (
  seq INTEGER PRIMARY KEY,
  site TEXT NOT NULL,
  device_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('linked', 'conflict'))
) STRICT;
CREATE INDEX links_user ON links (site, user_id);

CREATE TABLE users (
  site TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site, user_id)
) STRICT;

CREATE TABLE configs (
  site TEXT PRIMARY KEY,
  json TEXT NOT NULL,
  etag TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE optins (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  email TEXT NOT NULL,
  consent_text TEXT NOT NULL,
  at INTEGER NOT NULL,
  prompt_id TEXT,
  touch TEXT CHECK (touch IS NULL OR json_valid(touch)),
  PRIMARY KEY (site, id)
) STRICT;
CREATE INDEX optins_device ON optins (site, device_id);
`,
  },
  {
    version: 2,
    name: 'used logins, device last use and revocation',
    sql: `
-- A login token links one device: each one used is kept (by its SHA-256) until it expires.
CREATE TABLE used_logins (
  site TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  device_id TEXT NOT NULL,
  exp INTEGER NOT NULL,
  PRIMARY KEY (site, token_hash)
) STRICT;
CREATE INDEX used_logins_exp ON used_logins (exp);

-- A device's token expires after 13 months unused, and with a logout. Devices known before this
-- migration count as used now: their last use was not recorded.
ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;
ALTER TABLE devices ADD COLUMN revoked_at INTEGER;
UPDATE devices SET last_seen_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
`,
  },
  {
    version: 3,
    name: 'order claims in receive order, order confirmations',
    sql: `
-- The server's receive order of events: which claim of an order came first is decided by it, never
-- by the client's "at". Filled from a counter at ingest: a rowid is no receive order (VACUUM may
-- renumber a table without an INTEGER PRIMARY KEY). Older rows get their rowid, their insertion
-- order as far as it is known.
ALTER TABLE events ADD COLUMN received_seq INTEGER;
UPDATE events SET received_seq = rowid;
CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
INSERT INTO sequences (name, value) SELECT 'events_received', coalesce(max(received_seq), 0) FROM events;

-- The order a purchase names, normalised as store/order-id.ts does, so every claim of an order is found by index.
ALTER TABLE events ADD COLUMN order_id TEXT;
UPDATE events SET order_id = CASE json_type(body, '$.orderId')
    WHEN 'text' THEN nullif(substr(trim(json_extract(body, '$.orderId'), ' ' || char(9, 10, 11, 12, 13)), 1, 200), '')
    WHEN 'integer' THEN CAST(json_extract(body, '$.orderId') AS TEXT)
    WHEN 'real' THEN CAST(json_extract(body, '$.orderId') AS TEXT)
  END
  WHERE type = 'purchase';
CREATE INDEX events_order ON events (site, order_id, received_seq) WHERE order_id IS NOT NULL;

-- Orders the site's backend confirmed with a signed token: the server's value, not the client's.
CREATE TABLE order_confirmations (
  site TEXT NOT NULL,
  order_id TEXT NOT NULL,
  value REAL NOT NULL CHECK (value >= 0),
  currency TEXT NOT NULL,
  device_id TEXT,
  confirmed_at INTEGER NOT NULL,
  PRIMARY KEY (site, order_id)
) STRICT;
`,
  },
  {
    version: 4,
    name: 'products and categories read from the page rows',
    sql: `
-- Products and categories are only ever set on page views: the profile reads them through
-- events_device_type_at (type = 'page'). Two covering indexes less to write on every collect
-- (the bench's "ingestion" section measures the ceiling before and after).
DROP INDEX IF EXISTS events_product;
DROP INDEX IF EXISTS events_category;
`,
  },
  {
    version: 5,
    name: 'server-set cookies bound to devices',
    sql: `
-- The secret of a device's server-set cookie (identity.serverCookie), as SHA-256: one per device,
-- found by its hash when a browser whose script storage was wiped asks for its device back.
CREATE TABLE server_cookies (
  site TEXT NOT NULL,
  device_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site, device_id)
) STRICT;
CREATE UNIQUE INDEX server_cookies_secret ON server_cookies (site, secret_hash);
`,
  },
  {
    version: 6,
    name: 'report reads by time',
    sql: `
-- The reports read a time window of a site (Store.reportData): each device's activity grouped from
-- this index alone (site, at, device_id), the touches, purchases and exposures picked by type in it
-- before any row is read. Plans: test/reports-in-db.test.ts.
CREATE INDEX events_at ON events (site, at, type, device_id);
CREATE INDEX optins_at ON optins (site, at);
`,
  },
  {
    version: 7,
    name: 'CRM traits of users',
    sql: `
-- A user's CRM traits from the store's backend (PUT /v1/users/:id/traits): one flat JSON object of
-- at most 50 keys per user, kept in the order written. Read into the profile of the user's linked
-- devices only; exported with the user, and erased with them.
CREATE TABLE user_traits (
  site TEXT NOT NULL,
  user_id TEXT NOT NULL,
  traits TEXT NOT NULL CHECK (json_valid(traits)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, user_id)
) STRICT;
`,
  },
  {
    version: 8,
    name: 'trigger episodes, consent denial on devices',
    sql: `
-- A person's trigger episode (triggers/episodes.ts): opened by their events, made due \`after\` its
-- last one, then evaluated (cancelled with a reason, or 'pending' with its webhook payload fixed),
-- then delivered (triggers/deliver.ts) with this row as the ledger. \`id\` is the idempotency key.
-- \`person\` is 'u:<user id>' or 'd:<device id>'.
CREATE TABLE trigger_episodes (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  person TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'retrying', 'delivered', 'failed', 'cancelled')),
  started_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  reason TEXT,
  url TEXT,
  payload TEXT CHECK (payload IS NULL OR json_valid(payload)),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER,
  last_status INTEGER,
  last_error TEXT,
  first_attempt_at INTEGER,
  delivered_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site, id)
) STRICT;
-- One open episode per person and trigger: concurrent collects extend it rather than open two.
CREATE UNIQUE INDEX trigger_episodes_open ON trigger_episodes (site, trigger_id, person) WHERE status = 'open';
CREATE INDEX trigger_episodes_due ON trigger_episodes (due_at) WHERE status = 'open';
CREATE INDEX trigger_episodes_attempts ON trigger_episodes (next_attempt_at) WHERE status IN ('pending', 'retrying');
-- A person's episodes: cancelled by their purchase, and the closed ones that already cover an event.
CREATE INDEX trigger_episodes_person ON trigger_episodes (site, person, trigger_id, last_at);
CREATE INDEX trigger_episodes_delivered ON trigger_episodes (site, person, delivered_at) WHERE status = 'delivered';
CREATE INDEX trigger_episodes_log ON trigger_episodes (site, updated_at DESC);

-- The visitor refused consent on this device (logout with reason 'denied'): no trigger fires for them.
ALTER TABLE devices ADD COLUMN denied_at INTEGER;
`,
  },
  {
    version: 9,
    name: 'profile versions',
    sql: `
-- What a profile read depends on raises these (Store.profileVersion): a device's counter, with each
-- collect that stores events and each opt-in; and a count of retention's deletions. GET /v1/profile
-- keeps the JSON it built and reuses it while they are unchanged.
ALTER TABLE devices ADD COLUMN profile_version INTEGER NOT NULL DEFAULT 0;
INSERT INTO sequences (name, value) VALUES ('events_deleted', 0) ON CONFLICT (name) DO NOTHING;
`,
  },
  {
    version: 10,
    name: 'report activity from device bounds',
    sql: `
${MIGRATION_10_WHY}
ALTER TABLE devices ADD COLUMN first_event_at INTEGER;
ALTER TABLE devices ADD COLUMN last_event_at INTEGER;
UPDATE devices SET (first_event_at, last_event_at) =
  (SELECT min(at), max(at) FROM events e WHERE e.site = devices.site AND e.device_id = devices.device_id);
CREATE INDEX devices_activity ON devices (site, last_event_at) WHERE last_event_at IS NOT NULL;
DROP INDEX IF EXISTS events_at;
CREATE INDEX events_report ON events (site, at, id) WHERE ${REPORT_INDEX_WHERE};
CREATE INDEX events_day ON events ((${EVENT_DAY}));
`,
  },
  {
    version: 11,
    name: 'SDK chunks archive',
    sql: `
${MIGRATION_11_WHY}
CREATE TABLE sdk_chunks (
  name TEXT PRIMARY KEY,
  bytes BLOB NOT NULL,
  first_seen_at INTEGER NOT NULL,
  seen_at INTEGER NOT NULL
) STRICT;
`,
  },
];

export const pgMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial tables',
    sql: `
CREATE TABLE devices (
  site text NOT NULL,
  device_id text NOT NULL,
  token_hash text NOT NULL,
  user_id text,
  kind text CHECK (kind IN ('mobile', 'desktop')),
  created_at bigint NOT NULL,
  PRIMARY KEY (site, device_id)
);
CREATE INDEX devices_user ON devices (site, user_id) WHERE user_id IS NOT NULL;

CREATE TABLE events (
  site text NOT NULL,
  id text NOT NULL,
  device_id text NOT NULL,
  type text NOT NULL,
  at bigint NOT NULL CHECK (at >= 0),
  product text,
  category text,
  channel text,
  device text,
  body jsonb NOT NULL,
  PRIMARY KEY (site, id)
);
CREATE INDEX events_device_type_at ON events (site, device_id, type, at DESC);
-- Covering: the product and category lists can be read from the index alone.
CREATE INDEX events_product ON events (site, device_id, at DESC) INCLUDE (product, device, id) WHERE product IS NOT NULL;
CREATE INDEX events_category ON events (site, device_id, at DESC) INCLUDE (category, device, id) WHERE category IS NOT NULL;
CREATE INDEX events_campaign ON events (site, device_id, at DESC) WHERE type = 'touch' AND channel <> 'Direct';

CREATE TABLE links (
  seq bigserial PRIMARY KEY,
  site text NOT NULL,
  device_id text NOT NULL,
  user_id text NOT NULL,
  at bigint NOT NULL,
  action text NOT NULL CHECK (action IN ('linked', 'conflict'))
);
CREATE INDEX links_user ON links (site, user_id);

CREATE TABLE users (
  site text NOT NULL,
  user_id text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (site, user_id)
);

CREATE TABLE configs (
  site text PRIMARY KEY,
  json text NOT NULL,
  etag text NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE optins (
  site text NOT NULL,
  id text NOT NULL,
  device_id text NOT NULL,
  email text NOT NULL,
  consent_text text NOT NULL,
  at bigint NOT NULL,
  prompt_id text,
  touch jsonb,
  PRIMARY KEY (site, id)
);
CREATE INDEX optins_device ON optins (site, device_id);
`,
  },
  {
    version: 2,
    name: 'used logins, device last use and revocation',
    sql: `
-- A login token links one device: each one used is kept (by its SHA-256) until it expires.
CREATE TABLE used_logins (
  site text NOT NULL,
  token_hash text NOT NULL,
  device_id text NOT NULL,
  exp bigint NOT NULL,
  PRIMARY KEY (site, token_hash)
);
CREATE INDEX used_logins_exp ON used_logins (exp);

-- A device's token expires after 13 months unused, and with a logout. Devices known before this
-- migration count as used now: a default evaluated once, kept in the catalog (no table rewrite),
-- then dropped, as every insert sets it.
ALTER TABLE devices ADD COLUMN last_seen_at bigint DEFAULT (extract(epoch from now()) * 1000)::bigint;
ALTER TABLE devices ALTER COLUMN last_seen_at DROP DEFAULT;
ALTER TABLE devices ADD COLUMN revoked_at bigint;
`,
  },
  {
    version: 3,
    name: 'order claims in receive order, order confirmations',
    sql: `
-- The server's receive order of events: which claim of an order came first is decided by it, never
-- by the client's "at". Existing rows are numbered in their physical order.
ALTER TABLE events ADD COLUMN received_seq bigint GENERATED BY DEFAULT AS IDENTITY;

-- The order a purchase names, normalised as store/order-id.ts does, so every claim of an order is found by index.
ALTER TABLE events ADD COLUMN order_id text;
UPDATE events SET order_id = CASE jsonb_typeof(body->'orderId')
    WHEN 'string' THEN nullif(left(btrim(body->>'orderId', ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), 200), '')
    WHEN 'number' THEN body->>'orderId'
  END
  WHERE type = 'purchase';
CREATE INDEX events_order ON events (site, order_id, received_seq) WHERE order_id IS NOT NULL;

-- Orders the site's backend confirmed with a signed token: the server's value, not the client's.
CREATE TABLE order_confirmations (
  site text NOT NULL,
  order_id text NOT NULL,
  value double precision NOT NULL CHECK (value >= 0),
  currency text NOT NULL,
  device_id text,
  confirmed_at bigint NOT NULL,
  PRIMARY KEY (site, order_id)
);
`,
  },
  {
    version: 4,
    name: 'products and categories read from the page rows',
    sql: `
-- Products and categories are only ever set on page views: the profile reads them through
-- events_device_type_at (type = 'page'). Two covering indexes less to write on every collect.
DROP INDEX IF EXISTS events_product;
DROP INDEX IF EXISTS events_category;
`,
  },
  {
    version: 5,
    name: 'server-set cookies bound to devices',
    sql: `
-- The secret of a device's server-set cookie (identity.serverCookie), as SHA-256: one per device,
-- found by its hash when a browser whose script storage was wiped asks for its device back.
CREATE TABLE server_cookies (
  site text NOT NULL,
  device_id text NOT NULL,
  secret_hash text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (site, device_id)
);
CREATE UNIQUE INDEX server_cookies_secret ON server_cookies (site, secret_hash);
`,
  },
  {
    version: 6,
    name: 'report reads by time',
    sql: `
-- The reports read a time window of a site (Store.reportData): each device's activity grouped from
-- this index alone (site, at, device_id), the touches, purchases and exposures picked by type in it
-- before any row is read. Plans: test/reports-in-db.test.ts.
CREATE INDEX events_at ON events (site, at, type, device_id);
CREATE INDEX optins_at ON optins (site, at);
`,
  },
  {
    version: 7,
    name: 'CRM traits of users',
    sql: `
-- A user's CRM traits from the store's backend (PUT /v1/users/:id/traits): one flat JSON object of
-- at most 50 keys per user, kept in the order written. Read into the profile of the user's linked
-- devices only; exported with the user, and erased with them.
CREATE TABLE user_traits (
  site text NOT NULL,
  user_id text NOT NULL,
  traits text NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (site, user_id)
);
`,
  },
  {
    version: 8,
    name: 'trigger episodes, consent denial on devices',
    sql: `
-- A person's trigger episode (triggers/episodes.ts): opened by their events, made due \`after\` its
-- last one, then evaluated (cancelled with a reason, or 'pending' with its webhook payload fixed),
-- then delivered (triggers/deliver.ts) with this row as the ledger. \`id\` is the idempotency key.
-- \`person\` is 'u:<user id>' or 'd:<device id>'.
CREATE TABLE trigger_episodes (
  site text NOT NULL,
  id text NOT NULL,
  trigger_id text NOT NULL,
  person text NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'pending', 'retrying', 'delivered', 'failed', 'cancelled')),
  started_at bigint NOT NULL,
  last_at bigint NOT NULL,
  due_at bigint NOT NULL,
  reason text,
  url text,
  payload text,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  lease_until bigint,
  last_status integer,
  last_error text,
  first_attempt_at bigint,
  delivered_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (site, id)
);
-- One open episode per person and trigger: concurrent collects extend it rather than open two.
CREATE UNIQUE INDEX trigger_episodes_open ON trigger_episodes (site, trigger_id, person) WHERE status = 'open';
CREATE INDEX trigger_episodes_due ON trigger_episodes (due_at) WHERE status = 'open';
CREATE INDEX trigger_episodes_attempts ON trigger_episodes (next_attempt_at) WHERE status IN ('pending', 'retrying');
-- A person's episodes: cancelled by their purchase, and the closed ones that already cover an event.
CREATE INDEX trigger_episodes_person ON trigger_episodes (site, person, trigger_id, last_at);
CREATE INDEX trigger_episodes_delivered ON trigger_episodes (site, person, delivered_at) WHERE status = 'delivered';
CREATE INDEX trigger_episodes_log ON trigger_episodes (site, updated_at DESC);

-- The visitor refused consent on this device (logout with reason 'denied'): no trigger fires for them.
ALTER TABLE devices ADD COLUMN denied_at bigint;
`,
  },
  {
    version: 9,
    name: 'profile versions',
    sql: `
-- What a profile read depends on raises these (Store.profileVersion): a device's counter, with each
-- collect that stores events, each opt-in and an erasure; and retention's deletions, counted in the
-- transaction that deletes (a row, not a sequence: a snapshot sees the count and the deletion
-- together). GET /v1/profile keeps the JSON it built and reuses it while they are unchanged.
ALTER TABLE devices ADD COLUMN profile_version bigint NOT NULL DEFAULT 0;
CREATE TABLE sequences (name text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO sequences (name, value) VALUES ('events_deleted', 0);
`,
  },
  {
    version: 10,
    name: 'report activity from device bounds',
    sql: `
${MIGRATION_10_WHY}
ALTER TABLE devices ADD COLUMN first_event_at bigint;
ALTER TABLE devices ADD COLUMN last_event_at bigint;
UPDATE devices d SET first_event_at = b.first_at, last_event_at = b.last_at
  FROM (SELECT site, device_id, min(at) AS first_at, max(at) AS last_at FROM events GROUP BY site, device_id) b
  WHERE b.site = d.site AND b.device_id = d.device_id;
CREATE INDEX devices_activity ON devices (site, last_event_at) WHERE last_event_at IS NOT NULL;
DROP INDEX IF EXISTS events_at;
CREATE INDEX events_report ON events (site, at) WHERE ${REPORT_INDEX_WHERE};
CREATE INDEX events_day ON events ((${EVENT_DAY}));
`,
  },
  {
    version: 11,
    name: 'SDK chunks archive',
    sql: `
${MIGRATION_11_WHY}
CREATE TABLE sdk_chunks (
  name text PRIMARY KEY,
  bytes bytea NOT NULL,
  first_seen_at bigint NOT NULL,
  seen_at bigint NOT NULL
);
`,
  },
];
