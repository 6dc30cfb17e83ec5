import { afterAll, describe, expect, it } from 'vitest';
import { webhookBodySchema } from '@cairn/schema';
import { signIdentity } from '../src/identity/identity-token.js';
import { type RunningServer, startServer } from '../src/server.js';
import { verifyWebhook } from '../src/triggers/sign.js';
import { sqliteDb } from './helpers/db.js';
import { ADMIN_KEY, clientToken, id, pageEvent, SECRET, SITE } from './helpers/http.js';
import { startReceiver } from './helpers/webhook-receiver.js';

// The whole path in one server: a collect opens the episode, the runner evaluates it once `after`
// has passed and delivers it, signed, to a real receiver; the log and /metrics say so.

const WEBHOOK_SECRET = 'server-webhook-secret-0123456789abcdefgh';

describe('a trigger, from collect to the receiver, on one server', () => {
  const db = sqliteDb();
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.close();
    await db.cleanup();
  });

  it('delivers one signed webhook naming the products, logged and counted', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    server = await startServer({
      port: 0,
      db: db.options.sqlitePath as string,
      logger: false,
      adminKey: ADMIN_KEY,
      identitySecret: SECRET,
      siteKeys: { sites: { [SITE]: { webhookSecret: WEBHOOK_SECRET } } },
      rateLimit: { ip: false, device: false },
      triggerPollMs: 100,
      config: {
        site: SITE,
        origins: ['https://shop.example'],
        triggers: [
          {
            id: 'browse',
            on: 'browse_abandoned',
            after: '1s',
            minProductViews: 2,
            channels: ['email'],
            url: receiver.url,
            cooldown: '0s',
          },
        ],
      },
    });
    const url = server.url;
    const deviceId = id();
    const token = clientToken();
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify(body),
      });
    const now = Date.now();
    const views = [
      pageEvent({ product: 'SKU-1', category: 'shirts', at: now - 500 }),
      pageEvent({ product: 'SKU-2', category: 'shoes', at: now - 400 }),
    ];
    expect((await post('/v1/collect', { site: SITE, deviceId, events: views })).status).toBe(202);
    const login = signIdentity({ userId: 'alice', site: SITE, secret: SECRET });
    expect((await post('/v1/identify', { site: SITE, deviceId, userId: 'alice', token: login })).status).toBe(200);

    await receiver.waitFor(1);
    const [got] = receiver.received;
    expect(verifyWebhook(got?.body ?? '', String(got?.headers['cairn-signature']), WEBHOOK_SECRET)).toMatchObject({
      ok: true,
    });
    const body = webhookBodySchema.parse(JSON.parse(got?.body ?? ''));
    expect(body.idempotencyKey).toBe(got?.headers['idempotency-key']);
    expect(body.trigger).toEqual({ id: 'browse', on: 'browse_abandoned' });
    expect(body.person.userId).toBe('alice');
    expect(body.products.map((p) => p.id)).toEqual(['SKU-2', 'SKU-1']);

    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    type Log = { deliveries: { id: string; status: string; on: string; person: string }[] };
    let log: Log = { deliveries: [] };
    for (let i = 0; i < 50 && log.deliveries[0]?.status !== 'delivered'; i++) {
      log = (await (await fetch(`${url}/v1/deliveries?site=${SITE}`, { headers: admin })).json()) as Log;
      if (log.deliveries[0]?.status !== 'delivered') await new Promise((ok) => setTimeout(ok, 100));
    }
    expect(log.deliveries).toEqual([
      expect.objectContaining({
        id: body.idempotencyKey,
        status: 'delivered',
        on: 'browse_abandoned',
        person: 'user alice',
      }),
    ]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('cairn_webhook_deliveries_total{outcome="delivered"} 1');
    await new Promise((ok) => setTimeout(ok, 500));
    expect(receiver.received).toHaveLength(1);
    await receiver.close();
  });

  it('counts an episode the evaluation cancels as a cancelled delivery', async () => {
    const db2 = sqliteDb();
    const s = await startServer({
      port: 0,
      db: db2.options.sqlitePath as string,
      logger: false,
      adminKey: ADMIN_KEY,
      identitySecret: SECRET,
      siteKeys: { sites: { [SITE]: { webhookSecret: WEBHOOK_SECRET } } },
      rateLimit: { ip: false, device: false },
      triggerPollMs: 100,
      config: {
        site: SITE,
        origins: ['https://shop.example'],
        triggers: [
          {
            id: 'browse',
            on: 'browse_abandoned',
            after: '1s',
            minProductViews: 1,
            channels: ['email'],
            url: 'http://127.0.0.1:9/never',
            cooldown: '0s',
          },
        ],
      },
    });
    try {
      // An anonymous device with no opt-in: unreachable, cancelled when due.
      const res = await fetch(`${s.url}/v1/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clientToken()}` },
        body: JSON.stringify({ site: SITE, deviceId: id(), events: [pageEvent({ product: 'SKU-1', at: Date.now() })] }),
      });
      expect(res.status).toBe(202);
      const admin = { authorization: `Bearer ${ADMIN_KEY}` };
      type Log = { deliveries: { status: string; reason: string | null }[] };
      let log: Log = { deliveries: [] };
      for (let i = 0; i < 100 && log.deliveries[0]?.status !== 'cancelled'; i++) {
        log = (await (await fetch(`${s.url}/v1/deliveries?site=${SITE}`, { headers: admin })).json()) as Log;
        if (log.deliveries[0]?.status !== 'cancelled') await new Promise((ok) => setTimeout(ok, 100));
      }
      expect(log.deliveries).toEqual([expect.objectContaining({ status: 'cancelled', reason: 'unreachable' })]);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toContain('cairn_webhook_deliveries_total{outcome="cancelled"} 1');
    } finally {
      await s.close();
      await db2.cleanup();
    }
  });
});
