#!/usr/bin/env node
// Runs the checks and every test suite in order: lint and format check, type check, unit suites, then
// end-to-end; prints one closing line. Each runs even if an earlier one failed, so one red run shows
// everything that is broken. A check (lint, typecheck) is no test: it adds nothing to the counts when it
// passes, and counts as one failed suite when it fails.
// Names on the command line pick what to run: `node scripts/test-all.mjs lint typecheck`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reports = mkdtempSync(join(tmpdir(), 'cairn-test-'));

const all = [
  // The root package.json's scripts, so `npm run lint` and `npm run typecheck` are the same checks.
  { name: 'lint', cwd: '.', kind: 'check', args: ['scripts/pnpm.mjs', 'run', 'lint'] },
  { name: 'typecheck', cwd: '.', kind: 'check', args: ['scripts/pnpm.mjs', 'run', 'typecheck'] },
  { name: '@cairn/schema', cwd: 'packages/schema', kind: 'vitest' },
  { name: '@cairn/sdk', cwd: 'packages/sdk', kind: 'vitest' },
  { name: '@cairn/server', cwd: 'packages/server', kind: 'vitest' },
  { name: '@cairn/bench (harness)', cwd: 'bench', kind: 'node' },
  { name: 'e2e (Chromium)', cwd: 'e2e', kind: 'playwright' },
];
const picked = process.argv.slice(2);
const suites = picked.length ? all.filter((s) => picked.some((p) => s.name.startsWith(p))) : all;
if (!suites.length) {
  console.error(`test-all: nothing matches ${picked.join(', ')}; names: ${all.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failedSuites = [];

for (const s of suites) {
  const cwd = join(root, s.cwd);
  const out = join(reports, s.name.replace(/\W+/g, '_') + '.json');
  console.log(`\n=== ${s.name} ===`);
  if (s.kind === 'check') {
    const r = spawnSync('node', s.args ?? [], { cwd, stdio: 'inherit' });
    if (r.status !== 0) {
      failedSuites.push(s.name);
      failed += 1;
    }
    continue;
  }
  const [cmd, args, env] =
    s.kind === 'vitest'
      ? ['npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], {}]
      : s.kind === 'node'
        ? [
            'node',
            [
              '--test',
              '--test-reporter=spec',
              '--test-reporter=tap',
              '--test-reporter-destination=stdout',
              `--test-reporter-destination=${out}`,
              'test/',
            ],
            {},
          ]
        : ['npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: out }];
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
  const counts = existsSync(out) ? count(s.kind, readFileSync(out, 'utf8')) : null;
  if (counts) {
    passed += counts.passed;
    failed += counts.failed;
    skipped += counts.skipped;
  }
  if (r.status !== 0 || !counts || counts.passed === 0) {
    failedSuites.push(s.name);
    if (!counts || counts.failed === 0) failed += 1; // a suite that crashed or ran nothing counts as a failure
  }
}
rmSync(reports, { recursive: true, force: true });

if (failedSuites.length) console.log(`\nFailed suites: ${failedSuites.join(', ')}`);
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failedSuites.length ? 1 : 0);

function count(kind, text) {
  if (kind === 'node') {
    // node's TAP summary: "# pass N", "# fail N", "# skipped N".
    const n = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    return { passed: n('pass'), failed: n('fail') + n('cancelled'), skipped: n('skipped') + n('todo') };
  }
  const report = JSON.parse(text);
  if (kind === 'vitest') {
    return {
      passed: report.numPassedTests ?? 0,
      failed: report.numFailedTests ?? 0,
      skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    };
  }
  const st = report.stats ?? {};
  return { passed: st.expected ?? 0, failed: (st.unexpected ?? 0) + (st.flaky ?? 0), skipped: st.skipped ?? 0 };
}
