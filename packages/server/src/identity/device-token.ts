import { createHash, timingSafeEqual } from 'node:crypto';

// Device tokens are the client's own: the SDK makes a random one with each device id and presents it
// from its first request, and the server adopts it for a device it has not seen. Stored only as a
// SHA-256 hash.

/** Random enough to be a device's token: the SDK's are UUIDs (122 random bits). */
export const MIN_CLIENT_TOKEN = 32;

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
