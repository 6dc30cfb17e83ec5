// CRM traits reach only devices linked to their user, by every route that answers with a profile:
// GET /v1/profile, the identify answer, and a recovery (identity.serverCookie). An anonymous device
// never gets them, whatever it browsed; a device that logged out recovers nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentifyResponse, Profile, RecoverResponse } from '@cairn/schema';
import { signIdentity } from '../src/identity/identity-token.js';
import { makeStores, type TestDb } from './helpers/db.js';
import {
  admin,
  bearer,
  clientToken,
  config,
  harness,
  id,
  ORIGIN,
  pageEvent,
  SECRET,
  SITE,
  type Harness,
} from './helpers/http.js';

const NAME = 'cairn_sid';
const VIP = `vip-${id()}`;

describe.each(makeStores())('traits and anonymous devices on $name', (db: TestDb) => {
  let h: Harness;
  const clock = 1_700_000_000_000;
  beforeAll(async () => {
    h = await harness(db, { now: () => clock, configTtlMs: 0 });
    const put = await h.req('PUT', '/v1/config', { body: config({ identity: { serverCookie: {} } }), headers: admin });
    expect(put.status).toBe(200);
  });
  afterAll(() => db.cleanup());

  /** A device that collected once (a product view), and the server cookie's secret its answer set. */
  async function device() {
    const d = { dev: id(), token: clientToken() };
    const r = await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: d.dev, events: [pageEvent({ product: 'SKU-1' })] },
      headers: { ...bearer(d.token), origin: ORIGIN },
    });
    expect(r.status).toBe(202);
    const line = r.headers.getSetCookie().find((l) => l.startsWith(`${NAME}=`)) ?? '';
    const secret = /^[^=]+=([^;]*)/.exec(line)?.[1] ?? '';
    expect(secret).not.toBe('');
    return { ...d, secret };
  }
  const profile = async (d: { dev: string; token: string }) => {
    const r = await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${d.dev}`, { headers: bearer(d.token) });
    expect(r.status).toBe(200);
    return (await r.json()) as Profile;
  };
  const recover = (secret: string) =>
    h.req('POST', `/v1/recover?site=${SITE}`, {
      body: { site: SITE },
      headers: { origin: ORIGIN, cookie: `${NAME}=${secret}` },
    });

  it('an anonymous device: none in its profile nor its recovery; a linked one: in all three', async () => {
    const userId = `u-${id()}`;
    const set = await h.req('PUT', `/v1/users/${userId}/traits?site=${SITE}`, {
      body: { tier: VIP, orders: 3 },
      headers: admin,
    });
    expect(set.status).toBe(200);

    const anonymous = await device();
    expect((await profile(anonymous)).traits).toBeUndefined();
    const recovered = await recover(anonymous.secret);
    expect(recovered.status).toBe(200);
    const recoveredText = await recovered.text();
    expect(recoveredText).not.toContain(VIP);
    const anonymousBack = JSON.parse(recoveredText) as RecoverResponse;
    expect(anonymousBack.profile.traits).toBeUndefined();
    // A recovery makes a fresh token: the old one went with the wiped storage.
    anonymous.token = anonymousBack.deviceToken;

    const linked = await device();
    const identified = await h.req('POST', '/v1/identify', {
      body: {
        site: SITE,
        deviceId: linked.dev,
        userId,
        token: signIdentity({ userId, secret: SECRET, site: SITE, deviceId: linked.dev, now: clock }),
      },
      headers: bearer(linked.token),
    });
    expect(identified.status).toBe(200);
    expect(((await identified.json()) as IdentifyResponse).profile.traits).toEqual({ tier: VIP, orders: 3 });
    expect((await profile(linked)).traits).toEqual({ tier: VIP, orders: 3 });
    const back = await recover(linked.secret);
    expect(back.status).toBe(200);
    const again = (await back.json()) as RecoverResponse;
    expect(again.profile.traits).toEqual({ tier: VIP, orders: 3 });

    // The anonymous device still has none; and the linked one, once logged out, recovers nothing.
    expect((await profile(anonymous)).traits).toBeUndefined();
    const out = await h.req('POST', '/v1/logout', {
      body: { site: SITE, deviceId: linked.dev },
      headers: bearer(again.deviceToken),
    });
    expect(out.status).toBe(200);
    const gone = await recover(secretOf(back));
    expect(gone.status).toBe(204);
    expect(await gone.text()).not.toContain(VIP);
  });
});

/** The rotated secret a recovery's answer set. */
function secretOf(r: Response): string {
  const line = r.headers.getSetCookie().find((l) => l.startsWith(`${NAME}=`)) ?? '';
  return /^[^=]+=([^;]*)/.exec(line)?.[1] ?? '';
}
