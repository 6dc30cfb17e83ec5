/**
 * A random v4 UUID. crypto.randomUUID exists in secure contexts only; on a plain-http page a blob
 * URL ends in one the browser made (blob:http://shop.test/<uuid>).
 */
export const uuid = (): string => crypto.randomUUID?.() || URL.createObjectURL(new Blob()).slice(-36);
