import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStores, type TestDb } from './helpers/db.js';
import { bearer, harness, id, pageEvent, SITE, type Harness } from './helpers/http.js';

describe.each(makeStores())('POST /v1/collect with the device token in the body (beacons) on $name', (db: TestDb) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(db);
  });
  afterAll(() => db.cleanup());

  /** As navigator.sendBeacon posts a string: text/plain, no Authorization. */
  const beacon = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    h.req('POST', '/v1/collect', {
      raw: JSON.stringify(body),
      headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers },
    });
  const tokenHashOf = async (dev: string) =>
    ((await h.snapshot()).devices as Record<string, unknown>[]).find((d) => d.device_id === dev)?.token_hash;

  it("a first visit's beacon creates the device with the token it carries, so later Bearer requests are accepted", async () => {
    const dev = id();
    const token = `sdk-made-${id()}`;
    const res = await beacon({ site: SITE, deviceId: dev, events: [pageEvent()], deviceToken: token });
    expect(res.status).toBe(202);
    // Adopted, as a Bearer token of 32+ characters is: nothing to hand out.
    expect(((await res.json()) as { deviceToken?: string }).deviceToken).toBeUndefined();
    expect(await tokenHashOf(dev)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(
      (
        await h.req('POST', '/v1/collect', {
          body: { site: SITE, deviceId: dev, events: [pageEvent()] },
          headers: bearer(token),
        })
      ).status,
    ).toBe(202);
    expect((await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${dev}`, { headers: bearer(token) })).status).toBe(
      200,
    );
    // And later beacons with it.
    expect((await beacon({ site: SITE, deviceId: dev, events: [pageEvent()], deviceToken: token })).status).toBe(202);
  });

  it('a wrong token in the body of a known device is refused with 401, and nothing is written', async () => {
    const dev = id();
    const token = `sdk-made-${id()}`;
    expect((await beacon({ site: SITE, deviceId: dev, events: [pageEvent()], deviceToken: token })).status).toBe(202);
    const before = await h.snapshot();
    const res = await beacon({ site: SITE, deviceId: dev, events: [pageEvent()], deviceToken: `stranger-${id()}` });
    expect(res.status).toBe(401);
    expect(await h.snapshot()).toEqual(before);
  });

  it('Bearer and body tokens that differ: 400 naming deviceToken, nothing written', async () => {
    const dev = id();
    const before = await h.snapshot();
    const res = await beacon(
      { site: SITE, deviceId: dev, events: [pageEvent()], deviceToken: `one-${id()}` },
      bearer(`other-${id()}`),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request', field: 'deviceToken' });
    expect(await h.snapshot()).toEqual(before);
  });

  it('the same token in both places is accepted', async () => {
    const token = `sdk-made-${id()}`;
    expect(
      (await beacon({ site: SITE, deviceId: id(), events: [pageEvent()], deviceToken: token }, bearer(token))).status,
    ).toBe(202);
  });

  it('a malformed body token is a 400 naming deviceToken', async () => {
    for (const deviceToken of ['', 'has space', 'x'.repeat(1025), 7]) {
      const res = await beacon({ site: SITE, deviceId: id(), events: [pageEvent()], deviceToken });
      expect(res.status, JSON.stringify(deviceToken)).toBe(400);
      expect(((await res.json()) as { field?: string }).field).toBe('deviceToken');
    }
  });
});
