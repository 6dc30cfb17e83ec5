// @vitest-environment node
import { expect, test } from 'vitest';

// The ESM build imports in plain Node (no DOM): nothing touches window or document at import time.
test('dist/index.js imports without a DOM and its pure functions work', async () => {
  expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
  const sdk = await import('../dist/index.js');
  const t = sdk.resolveTouch({ url: 'https://shop.test/?utm_source=pinterest&utm_medium=social', referrer: '' });
  expect(t).toMatchObject({ source: 'pinterest', medium: 'social', channel: 'Organic Social' });
  expect(sdk.migrateHistory({ p: [{ id: 'a', path: '/', title: '', at: 1, session: 's' }] }).n).toBe(1);
  expect(sdk.deviceKind(undefined)).toBe('mobile');
  expect(new sdk.CairnError('network').code).toBe('network');
  expect(typeof sdk.createCairn).toBe('function');
});
