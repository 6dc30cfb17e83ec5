/** The UUID a blob URL ends in (blob:http://shop.test/<uuid>), released at once: nothing is kept. */
const fromBlobUrl = (u: string) => (URL.revokeObjectURL(u), u.slice(-36));

/** A random v4 UUID. crypto.randomUUID exists in secure contexts only; plain-http pages get the browser's own from a blob URL. */
export const uuid = (): string => crypto.randomUUID?.() || fromBlobUrl(URL.createObjectURL(new Blob()));
