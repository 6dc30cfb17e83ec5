// The README's four webhook verifiers (Node, PHP, Python, Ruby), run as written against a request
// the server really signed and sent: the docs are code, and this keeps them honest.
import { spawnSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLog } from '../src/log.js';
import { deliverOne } from '../src/triggers/deliver.js';
import { sqliteDb } from './helpers/db.js';
import { startReceiver, type Received } from './helpers/webhook-receiver.js';

// CAIRN_TEST_README: another copy of the README, to see this test fail on a broken snippet.
const readme = readFileSync(process.env.CAIRN_TEST_README ?? new URL('../../../README.md', import.meta.url), 'utf8');
const section = (() => {
  const start = readme.indexOf("### Verifying a webhook's signature");
  if (start < 0) throw new Error('README has no "Verifying a webhook\'s signature" section');
  const end = readme.indexOf('\n### ', start + 10);
  return readme.slice(start, end < 0 ? undefined : end);
})();
const block = (lang: string) => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (!m?.[1]) throw new Error(`the README's verification section has no ${lang} block`);
  return m[1];
};

const SECRET = 'whsec-readme-0123456789abcdefghijklmnop';
// Each runner reads the request from the environment and prints true or false.
const runners: Record<string, { cmd: string; args: (code: string) => string[] }> = {
  js: {
    cmd: process.execPath,
    args: (c) => [
      '--input-type=module',
      '-e',
      `${c}\nprocess.stdout.write(String(cairnVerify(process.env.BODY, process.env.HEADER, process.env.SECRET)));`,
    ],
  },
  php: {
    cmd: 'php',
    args: (c) => [
      '-r',
      `${c.replace(/^<\?php\s*/, '')}\necho cairn_verify(getenv('BODY'), getenv('HEADER'), getenv('SECRET')) ? 'true' : 'false';`,
    ],
  },
  python: {
    cmd: 'python3',
    args: (c) => [
      '-c',
      `${c}\nimport os\nprint(str(cairn_verify(os.environb[b"BODY"], os.environ["HEADER"], os.environ["SECRET"])).lower(), end="")`,
    ],
  },
  ruby: {
    cmd: 'ruby',
    args: (c) => ['-e', `${c}\nprint cairn_verify(ENV["BODY"], ENV["HEADER"], ENV["SECRET"])`],
  },
};

const available = (cmd: string) => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;

describe('README webhook verifiers', () => {
  const db = sqliteDb();
  let got: Received;

  beforeAll(async () => {
    // A real delivery: the server's deliverer signs and POSTs a stored payload to a receiver.
    const receiver = await startReceiver(() => ({ status: 200 }));
    const store = await db.open();
    const id = randomUUID();
    const now = Date.now();
    await store.addDelivery({
      site: 'shop',
      id,
      triggerId: 'cart',
      person: 'u:alice',
      url: receiver.url,
      // Non-ASCII and escapes: the bytes must be verified as sent.
      payload: JSON.stringify({ idempotencyKey: id, site: 'shop', note: 'Crème brûlée "Ø" \\ 🛒' }),
      startedAt: now,
      lastAt: now,
      nextAttemptAt: now,
      now,
    });
    const r = await deliverOne({ store, secretFor: () => SECRET, log: silentLog, timeoutMs: 5000 }, 'shop', id);
    expect(r.result).toBe('delivered');
    got = receiver.received[0] as Received;
    await receiver.close();
  });
  afterAll(() => db.cleanup());

  describe.each(Object.entries(runners))('%s', (lang, r) => {
    // .ci/run installs php and ruby; elsewhere a missing interpreter skips its case, never passes it.
    it.skipIf(!available(r.cmd))('accepts the signed request, and refuses a changed body, header or secret', () => {
      const run = (body: string, header: string, secret: string) => {
        const out = spawnSync(r.cmd, r.args(block(lang)), {
          encoding: 'utf8',
          env: { ...process.env, BODY: body, HEADER: header, SECRET: secret },
        });
        expect(out.stderr).toBe('');
        return out.stdout.trim();
      };
      const header = String(got.headers['cairn-signature']);
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(run(got.body, header, SECRET)).toBe('true');
      expect(run(got.body.replace('alice', 'mallory').replace('shop', 'sh0p'), header, SECRET)).toBe('false');
      expect(run(got.body, header, `${SECRET}x`)).toBe('false');
      // A second v1 (a rotation) is accepted beside the right one.
      expect(run(got.body, `${header},v1=${'0'.repeat(64)}`, SECRET)).toBe('true');
      // An old timestamp is refused even with its right signature.
      const t = Number(/t=(\d+)/.exec(header)?.[1]) - 3600;
      const old = `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${got.body}`).digest('hex')}`;
      expect(run(got.body, old, SECRET)).toBe('false');
      expect(run(got.body, 'garbage', SECRET)).toBe('false');
      // Hostile headers are refused, never thrown on: a non-ASCII signature, a digit that is not 0-9.
      expect(run(got.body, `${header},v1=${'é'.repeat(64)}`.replace(/v1=[0-9a-f]{64},/, ''), SECRET)).toBe('false');
      expect(run(got.body, header.replace(/^t=\d+/, 't=\u00b2'), SECRET)).toBe('false');
    });
  });
});
