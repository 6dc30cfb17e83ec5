/** A random v4 UUID. crypto.randomUUID needs a secure context: plain-http pages get Math.random. */
export const uuid = (): string => {
  try {
    return crypto.randomUUID();
  } catch {
    return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (+c ^ ((Math.random() * 16) >> (+c / 4))).toString(16));
  }
};
