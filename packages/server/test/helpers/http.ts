// The HTTP suites' fixture: an app on a fresh store of either kind, a request helper, and fixtures.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CairnEvent, SiteConfigInput, Touch } from '@cairn/schema';
import { createApp, type AppDeps } from '../../src/app.js';
import type { Store } from '../../src/store/types.js';
import type { TestDb } from './db.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdefghij';
export const SECRET = 'test-identity-secret-0123456789abcdef';
export const SITE = 'shop';
export const ORIGIN = 'https://shop.example';

export interface Harness {
  app: ReturnType<typeof createApp>;
  store: Store;
  db: TestDb;
  req(
    method: string,
    path: string,
    opts?: { body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Every table's rows except the migrations bookkeeping, for "nothing was written" checks. */
  snapshot(): Promise<Record<string, unknown[]>>;
}

/** A fake SDK bundle carrying the placeholder the real one has. */
export function fakeSdk(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-sdk-'));
  const p = join(dir, 'cairn.js');
  writeFileSync(
    p,
    '!function(){var c="__CAIRN_EMBEDDED_CONFIG__",d=\'__CAIRN_EMBEDDED_CONFIG__\';window.__cfg=[c,d]}();',
  );
  return p;
}

export async function harness(db: TestDb, deps: Partial<AppDeps> = {}): Promise<Harness> {
  const store = await db.open();
  const app = createApp({
    store,
    adminKey: ADMIN_KEY,
    identitySecret: SECRET,
    logger: false,
    rateLimit: { ip: false, device: false },
    sdkPath: fakeSdk(),
    ...deps,
  });
  return {
    app,
    store,
    db,
    req(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      let body: string | Uint8Array | undefined = opts.raw;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      return Promise.resolve(app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) }));
    },
    async snapshot() {
      const t = await db.tables();
      delete t.schema_migrations;
      return t;
    },
  };
}

export const id = (): string => randomUUID();

export function touch(over: Partial<Touch> = {}): Touch {
  return {
    source: 'pinterest',
    medium: 'social',
    channel: 'Organic Social',
    landingPath: '/',
    at: 1_700_000_000_000,
    ...over,
  };
}

export function pageEvent(over: Partial<CairnEvent> = {}): CairnEvent {
  // Cast: zod's inferred catchall index signature does not admit the object-valued `touch` prop.
  return {
    id: id(),
    type: 'page',
    at: 1_700_000_000_000,
    path: '/product/linen-shirt',
    title: 'Linen shirt',
    product: 'SKU-1',
    category: 'shirts',
    device: 'mobile',
    ...over,
  } as CairnEvent;
}

export function config(over: Partial<SiteConfigInput> = {}): SiteConfigInput {
  return {
    site: SITE,
    origins: [ORIGIN],
    variants: [
      {
        id: 'pin',
        name: 'Pinterest',
        when: { source: 'pinterest' },
        slots: { 'hero-title': { text: 'Styled by you </script><script>alert(1)</script>' } },
      },
    ],
    ...over,
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const admin = bearer(ADMIN_KEY);

/** A device token as the SDK makes one with each device id: the server adopts it (32+ characters) for a device it has not seen. */
export const clientToken = (): string => `sdk-made-${randomUUID()}`;
