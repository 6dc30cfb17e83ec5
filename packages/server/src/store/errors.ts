// Typed failures a caller can map to an answer: `unknown_device` is a 4xx, `unavailable` a start-up error.
export type StoreErrorCode = 'unknown_device' | 'unavailable';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
