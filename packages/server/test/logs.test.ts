import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { signIdentity } from '../src/identity/identity-token.js';
import { sqliteDb } from './helpers/db.js';
import { ADMIN_KEY, admin, bearer, clientToken, config, harness, id, pageEvent, SECRET, SITE } from './helpers/http.js';

describe('request logs', () => {
  const db = sqliteDb();
  afterAll(() => db.cleanup());

  it('write one JSON line per request (method, route, status, ms) and never a token, email or key', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const h = await harness(db, { logger: createLogger('info', sink) });
    const dev = id();
    const email = 'secret.person@example.com';
    const idToken = signIdentity({ userId: 'alice', secret: SECRET, site: SITE });

    const deviceToken = clientToken();
    const r1 = await h.req('POST', '/v1/collect', {
      body: { site: SITE, deviceId: dev, events: [pageEvent()] },
      headers: bearer(deviceToken),
    });
    const requests = [
      r1,
      await h.req('POST', '/v1/identify', {
        body: { site: SITE, deviceId: dev, userId: 'alice', token: idToken },
        headers: bearer(deviceToken),
      }),
      await h.req('POST', '/v1/identify', {
        body: { site: SITE, deviceId: dev, userId: 'alice', token: idToken + 'x' },
        headers: bearer(deviceToken),
      }),
      await h.req('POST', '/v1/optins', {
        body: { id: id(), site: SITE, deviceId: dev, email, consentText: 'yes', at: 1 },
        headers: bearer(deviceToken),
      }),
      await h.req('GET', `/v1/profile?site=${SITE}&deviceId=${dev}`, { headers: bearer(deviceToken) }),
      await h.req('PUT', '/v1/config', { body: config(), headers: admin }),
      await h.req('PUT', '/v1/config', { body: config(), headers: bearer(`${ADMIN_KEY}-wrong`) }),
      await h.req('GET', '/nope'),
    ];
    expect(requests.map((r) => r.status)).toEqual([202, 200, 401, 201, 200, 200, 401, 404]);

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const reqLines = parsed.filter((l) => l.msg === 'request');
    expect(reqLines).toHaveLength(requests.length);
    expect(reqLines.map((l) => [l.method, l.route, l.status])).toEqual([
      ['POST', '/v1/collect', 202],
      ['POST', '/v1/identify', 200],
      ['POST', '/v1/identify', 401],
      ['POST', '/v1/optins', 201],
      ['GET', '/v1/profile', 200],
      ['PUT', '/v1/config', 200],
      ['PUT', '/v1/config', 401],
      ['GET', 'unmatched', 404],
    ]);
    for (const l of reqLines) expect(typeof l.ms).toBe('number');

    const all = lines.join('\n');
    for (const secret of [deviceToken, idToken, idToken.split('.')[1] as string, email, ADMIN_KEY, SECRET]) {
      expect(all).not.toContain(secret);
    }
  });
});
