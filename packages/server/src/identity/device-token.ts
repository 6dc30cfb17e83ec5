import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Device tokens: random, stored only as a SHA-256 hash. A client may bring its own for a device the
// server creates (the SDK does: then a first answer lost with the page costs it nothing); else the
// server makes one and hands it out once.

export function newDeviceToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Random enough to be a device's token: the SDK's are UUIDs (122 random bits). */
export const MIN_CLIENT_TOKEN = 32;

/** The token a device the server creates now gets: the client's own (`presented`), or a new one. */
export function tokenForNewDevice(presented: string | null): { token: string; made: boolean } {
  return presented !== null && presented.length >= MIN_CLIENT_TOKEN
    ? { token: presented, made: false }
    : { token: newDeviceToken(), made: true };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time: both sides are hashed first, so lengths always match. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Whether a presented token matches a stored hash, in constant time. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
