// The README's order-confirmation signers for PHP, Python and Ruby, run as written, must produce
// tokens the server accepts with every claim intact; the Node one is signOrder itself.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyOrder } from '../src/identity/order-token.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
/** The README's `lang` block that defines `cairn_order_token` (the login signers come first). */
const block = (lang: string) => {
  const blocks = [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
  const found = blocks.find((b) => b.includes('cairn_order_token'));
  if (!found) throw new Error(`README has no ${lang} block defining cairn_order_token`);
  return found;
};

const secret = 's3cret-shared-with-the-server';
// site, order, value, currency, secret, device
const args = `"shop", "A-1042", 178.5, "EUR", "${secret}", "dev-0123456789"`;
const whole = `"shop", "A-1043", 250, "EUR", "${secret}"`;
const runners: Record<string, { cmd: string; args: (code: string, call: string) => string[] }> = {
  python: { cmd: 'python3', args: (c, call) => ['-c', `${c}\nprint(cairn_order_token(${call}))`] },
  php: { cmd: 'php', args: (c, call) => ['-r', `${c}\necho cairn_order_token(${call});`] },
  ruby: { cmd: 'ruby', args: (c, call) => ['-e', `${c}\nprint cairn_order_token(${call})`] },
};

const available = (cmd: string) => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;

describe.each(Object.entries(runners))('README order signer: %s', (lang, r) => {
  // .ci/run installs php and ruby; elsewhere a missing interpreter skips its case, never passes it.
  it.skipIf(!available(r.cmd))('signs an order the server verifies, and only with its own secret', () => {
    const code = block(lang).replace(/^<\?php\s*/, '');
    const sign = (call: string) => {
      const out = spawnSync(r.cmd, r.args(code, call), { encoding: 'utf8' });
      expect(out.stderr).toBe('');
      return out.stdout.trim();
    };
    const token = sign(args);
    const v = verifyOrder(token, { secret, site: 'shop' });
    expect(v).toMatchObject({
      ok: true,
      claims: { site: 'shop', order: 'A-1042', value: 178.5, currency: 'EUR', device: 'dev-0123456789' },
    });
    if (v.ok) expect(v.claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(verifyOrder(token, { secret: 'another', site: 'shop' })).toMatchObject({ ok: false, reason: 'signature' });
    // Without a device, the claim is left out; a whole number is still a number.
    const bare = verifyOrder(sign(whole), { secret, site: 'shop' });
    expect(bare).toMatchObject({ ok: true, claims: { order: 'A-1043', value: 250 } });
    if (bare.ok) expect(bare.claims).not.toHaveProperty('device');
  });
});
