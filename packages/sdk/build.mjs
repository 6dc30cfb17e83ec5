#!/usr/bin/env node
// Builds the SDK: the script tag's two IIFEs and the ESM build for bundlers.
//   dist/cairn.js                the head: render-blocking, what must run before first paint
//   dist/cairn-core.<hash>.js    the core: loaded by the head, runs after first paint; the content
//                                hash in its name lets servers cache it as immutable
//   dist/index.js (+ .d.ts)      ESM, unminified: a bundler minifies it with the application
//
// Type errors fail the build. Internal properties are `_`-prefixed in the source and mangled to the
// short names pinned in mangle.json (a terser name cache), the same in both IIFEs, which share
// objects (the head's hand-over to the core). A new `_` property fails the build until it is pinned:
// `node build.mjs --pin` adds it. Stored data never depends on these names (src/state/device-state.ts).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import { rollup } from 'rollup';
import { minify } from 'terser';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const manglePath = join(here, 'mangle.json');
const pin = process.argv.includes('--pin');

// tsc first: rollup's TypeScript plugin only warns.
try {
  execFileSync(
    process.execPath,
    [join(here, 'node_modules/typescript/bin/tsc'), '-p', join(here, 'tsconfig.json'), '--noEmit'],
    { stdio: 'inherit' },
  );
} catch {
  console.error('build: type errors (above); nothing was built');
  process.exit(1);
}

const pinned = JSON.parse(readFileSync(manglePath, 'utf8'));
const nameCache = { props: { props: { ...pinned.props } } };

// The script tag's code is module code (strict, one scope of its own): `module` lets terser treat it
// so. The `unsafe` family gains under 10 bytes here and is left off.
const terserOptions = {
  ecma: 2020,
  module: true,
  toplevel: true,
  compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
  mangle: { properties: { regex: /^_/ } },
  format: { comments: false },
  nameCache,
};
// CAIRN_READABLE_BUILD=1: the same files, not compressed and with names kept, to debug in a browser.
if (process.env.CAIRN_READABLE_BUILD)
  Object.assign(terserOptions, {
    compress: false,
    mangle: { properties: terserOptions.mangle.properties },
    format: { beautify: true },
  });

async function iife(input, replace = {}) {
  const bundle = await rollup({
    input,
    plugins: [
      nodeResolve({ browser: true }),
      typescript({ tsconfig: join(here, 'tsconfig.json'), declaration: false, outDir: 'dist', noEmitOnError: true }),
    ],
  });
  const { output } = await bundle.generate({ format: 'iife', strict: false });
  await bundle.close();
  let code = output[0].code;
  for (const [from, to] of Object.entries(replace)) code = code.split(from).join(to);
  return (await minify(code, terserOptions)).code;
}

mkdirSync(dist, { recursive: true });
const core = await iife(join(here, 'src/entry/core.ts'));
const coreFile = `cairn-core.${createHash('sha256').update(core).digest('hex').slice(0, 12)}.js`;
const head = await iife(join(here, 'src/entry/head.ts'), { __CAIRN_CORE_FILE__: coreFile });

const added = Object.keys(nameCache.props.props).filter((k) => !(k in pinned.props));
if (added.length) {
  if (!pin) {
    console.error(
      `build: new internal properties ${added.map((k) => k.slice(1)).join(', ')}: pin them with \`node build.mjs --pin\``,
    );
    process.exit(1);
  }
  // Pinned names are `_` and a base-36 count: they never collide with the code's own properties,
  // none of which start with `_` unmangled.
  const used = new Set(Object.values(pinned.props));
  let n = 0;
  for (const k of added) {
    while (used.has('_' + n.toString(36))) n++;
    pinned.props[k] = '_' + n.toString(36);
    used.add(pinned.props[k]);
  }
  pinned.props = Object.fromEntries(Object.entries(pinned.props).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(manglePath, JSON.stringify(pinned, null, 2) + '\n');
  console.log(`build: pinned ${added.length} new properties in mangle.json; building again`);
  try {
    execFileSync(process.execPath, [fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  } catch {
    process.exit(1);
  }
  process.exit(0);
}

// Earlier builds' cores go: only the one the head names is served.
for (const f of readdirSync(dist)) if (/^cairn-core\..*\.js$/.test(f)) rmSync(join(dist, f));
writeFileSync(join(dist, coreFile), core);
writeFileSync(join(dist, 'cairn.js'), head);

// The ESM build, with .d.ts; dependencies stay external.
const esm = await rollup({
  input: join(here, 'src/index.ts'),
  plugins: [
    typescript({
      tsconfig: join(here, 'tsconfig.json'),
      declaration: true,
      declarationDir: 'dist',
      outDir: 'dist',
      sourceMap: true,
      noEmitOnError: true,
    }),
  ],
});
await esm.write({ dir: dist, format: 'es', entryFileNames: 'index.js', sourcemap: true });
await esm.close();

const files = readdirSync(dist).filter((f) => f.endsWith('.js'));
console.log(`build: dist/cairn.js (${head.length} B), dist/${coreFile} (${core.length} B), ${files.length} .js files`);
