// The keys of what the SDK keeps in its Kv (src/storage/kv.ts): part of the stored format, pinned by
// test/stored-format.test.ts. The history `h` (src/history/history.ts), the outbox `o`
// (src/core/outbox.ts), the device id mirror `id`, the profile `pf` with its ETag `pe`
// (src/core/profile.ts), and the prompts' state.

export const PROMPTS_KEY = 'prompts';

/** What the device holds of its history and profile: what goes when another subdomain moves the device. */
export const DEVICE_KEYS = ['h', 'o', 'pf', 'pe', PROMPTS_KEY];
