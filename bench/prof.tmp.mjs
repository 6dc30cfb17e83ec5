// One-off: Cairn's collect under the ingest section's load, in a server process with --cpu-prof.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { BENCH_DIR } from './lib/paths.mjs';
import { NO_REFUSALS, SITE, cannon, collectRequests, primeDevices } from './lib/server.mjs';
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const spec = {
  kind: 'cairn',
  options: { db: join(dir, 'cairn.db'), config: { site: SITE, origins: [] }, rateLimit: NO_REFUSALS },
};
const child = fork(join(BENCH_DIR, 'lib/server-child.mjs'), [JSON.stringify(spec)], {
  execArgv: ['--cpu-prof', '--cpu-prof-dir=/tmp/collect-prof'],
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
const { url } = await new Promise((r) => child.once('message', r));
const devices = await primeDevices(url, 'p' + process.pid);
const m = await cannon({ duration: 6, warmup: 1, connections: 10, url, requests: collectRequests(devices, 'prof') });
console.log('req/s', Math.round(m.rps));
child.send('close');
await new Promise((r) => child.once('exit', r));
