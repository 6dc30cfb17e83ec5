import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';

// The whole script-tag bundle, every feature together, stays under 8 KB gzip -9. Bytes are
// deterministic: build first (`npx rollup -c`); a missing build fails here rather than passing.
const BUDGET = 8192;
const bundle = () => readFileSync(new URL('../dist/cairn.js', import.meta.url));

test('dist/cairn.js is under 8 KB gzip -9', () => {
  const size = gzipSync(bundle(), { level: 9 }).length;
  console.log(`dist/cairn.js: ${bundle().length} B minified, ${size} B gzip -9 (budget ${BUDGET})`);
  expect(size).toBeLessThan(BUDGET);
});

test('zod stays out of the browser bundle', () => {
  const js = bundle().toString();
  expect(js).not.toMatch(/zod|ZodError|safeParse/);
});

test('the embedded-config literal survives minification, once, in double quotes', () => {
  const js = bundle().toString();
  expect(js.split('"__CAIRN_EMBEDDED_CONFIG__"')).toHaveLength(2);
});
