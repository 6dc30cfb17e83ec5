import { describe, expect, it } from 'vitest';
import { collectBodySchema, deviceTokenSchema } from '../src/index.js';

const body = (over: Record<string, unknown> = {}) => ({
  site: 'shop',
  deviceId: 'device-0001',
  events: [{ id: 'event-0001', type: 'page', at: 1 }],
  ...over,
});

describe('collectBodySchema: the device token in the body (beacons)', () => {
  it('is optional', () => {
    expect(collectBodySchema.safeParse(body()).success).toBe(true);
  });

  it('takes what a Bearer token may be: 1 to 1024 visible ASCII characters', () => {
    for (const token of [
      'x',
      'a'.repeat(1024),
      '0f8fad5b-d9cb-469f-a165-70867728950e',
      '!~"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}',
    ]) {
      const r = collectBodySchema.safeParse(body({ deviceToken: token }));
      expect(r.success, token).toBe(true);
      if (r.success) expect(r.data.deviceToken).toBe(token);
    }
  });

  it('refuses an empty, too long, spaced or non-ASCII token, naming the field', () => {
    for (const token of ['', 'a'.repeat(1025), 'two words', 'tab\there', 'é'.repeat(40), 'line\n', 42, null]) {
      const r = collectBodySchema.safeParse(body({ deviceToken: token }));
      expect(r.success, JSON.stringify(token)).toBe(false);
      if (!r.success) expect(r.error.issues[0]?.path).toEqual(['deviceToken']);
    }
    expect(deviceTokenSchema.safeParse(' leading').success).toBe(false);
  });
});
