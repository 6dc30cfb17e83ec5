// The README's login signers for PHP, Python and Ruby, run as written, must produce tokens the
// server accepts: the docs are code, and this keeps them honest.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyIdentity } from '../src/identity/identity-token.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const block = (lang: string) => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme);
  if (!m?.[1]) throw new Error(`README has no ${lang} block`);
  return m[1];
};

const secret = 's3cret-shared-with-the-server';
const runners: Record<string, { cmd: string; args: (code: string) => string[] }> = {
  python: { cmd: 'python3', args: (c) => ['-c', `${c}\nprint(cairn_token("shop", "alice", "${secret}"))`] },
  php: { cmd: 'php', args: (c) => ['-r', `${c}\necho cairn_token("shop", "alice", "${secret}");`] },
  ruby: { cmd: 'ruby', args: (c) => ['-e', `${c}\nprint cairn_token("shop", "alice", "${secret}")`] },
};

const available = (cmd: string) => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;

describe.each(Object.entries(runners))('README signer: %s', (lang, r) => {
  // .ci/run installs php and ruby; elsewhere a missing interpreter skips its case, never passes it.
  it.skipIf(!available(r.cmd))('signs a token the server verifies, and only for its own secret', () => {
    const code = block(lang).replace(/^<\?php\s*/, '');
    const out = spawnSync(r.cmd, r.args(code), { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const token = out.stdout.trim();
    const ok = verifyIdentity(token, { secret, site: 'shop', userId: 'alice' });
    expect(ok).toMatchObject({ ok: true, claims: { site: 'shop', user: 'alice' } });
    if (ok.ok) expect(ok.claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(verifyIdentity(token, { secret: 'another', site: 'shop' })).toEqual({ ok: false, reason: 'signature' });
  });
});
