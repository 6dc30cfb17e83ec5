#!/usr/bin/env node
// Runs the pinned pnpm with the environment this repo needs, on a machine that has only Node and npm.
// - pnpm: the one on PATH when it is the pinned version, else `npx -y pnpm@<pinned>`.
// - npm_config_nodedir: better-sqlite3 compiles from source, and pnpm ignores .npmrc for this.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];

const env = { ...process.env };
if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
if (process.env.CI) env.CI = 'true';

const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
const usePath = onPath.status === 0 && onPath.stdout.trim() === pinned;
const [cmd, pre] = usePath ? ['pnpm', []] : ['npx', ['-y', `pnpm@${pinned}`]];

const args = process.argv.slice(2);
const r = spawnSync(cmd, [...pre, ...args], { stdio: 'inherit', env, cwd: root });
process.exit(r.status ?? 1);
