// Scratch directories for the run, removed at exit whatever happens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = [];
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, deleted when the process exits. */
export function tmpDir(label) {
  const d = mkdtempSync(join(tmpdir(), `cairn-bench-${label}-`));
  dirs.push(d);
  return d;
}
