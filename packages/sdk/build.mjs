#!/usr/bin/env node
// Builds the SDK: the script tag's two IIFEs and the ESM build for bundlers.
//   dist/cairn.js                the head: render-blocking, what must run before first paint
//   dist/cairn-core.<hash>.js    the core: loaded by the head, runs after first paint; the content
//                                hash in its name lets servers cache it as immutable
//   dist/cairn-prompts.<hash>.js the prompts' UI: loaded by the core when a prompt is to show
//   dist/index.js (+ .d.ts)      ESM, unminified: a bundler minifies it with the application
//
// Type errors fail the build. Internal properties are `_`-prefixed in the source and mangled to the
// short names pinned in mangle.json (a terser name cache), the same in every IIFE, which share
// objects (the head's hand-over to the core, the prompts' UI's to the core). A new `_` property
// fails the build until it is pinned: `node build.mjs --pin` adds it. Stored data never depends on
// these names (src/state/device-state.ts).
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

const plugins = () => [
  nodeResolve({ browser: true }),
  typescript({ tsconfig: join(here, 'tsconfig.json'), declaration: false, outDir: 'dist', noEmitOnError: true }),
];

async function iife(input, extraPlugins = [], replace = {}) {
  const bundle = await rollup({ input, plugins: [...extraPlugins, ...plugins()] });
  const { output } = await bundle.generate({ format: 'iife', strict: false });
  await bundle.close();
  let code = output[0].code;
  for (const [from, to] of Object.entries(replace)) code = code.split(from).join(to);
  return (await minify(code, terserOptions)).code;
}

// The hand-over of functions. The head always runs before its core (it loads the core by its hashed
// name), and both are built from the same modules: a function both bundles render ships once, in the
// head, which leaves it in an array on the stub (`_lib`); the core takes it from there instead of
// carrying its own copy. Only functions and classes go over; constants stay in each bundle, where
// terser inlines them. Which ones: every function export that the unminified bundles of both render,
// found in a first pass. (A function the core alone renders keeps its own copies of what it calls
// in its module: a pure copy, since nothing shared holds state but warn's once-per-code memory, and
// the source tables that fill() fills, which stays in both: see KEEP_IN_BOTH.)
// The array starts with a token of the list: a core meets a head of another build only when a page
// mixes builds (two tags, or a self-hosted head beside another build's core), and then it finds no
// stub (src/entry/handover.ts) and does nothing, rather than call the wrong functions.
const HANDOVER_MODULE = join(here, 'src/entry/handover.ts');
const SHARED = '\0cairn-shared:';

/** For an entry's bundle: each module's rendered exports, and which of them are functions or classes. */
async function analyse(input) {
  const functions = new Map();
  const bundle = await rollup({
    input,
    plugins: [
      ...plugins(),
      {
        name: 'cairn-function-exports',
        moduleParsed(info) {
          const names = new Set();
          for (const node of info.ast?.body ?? []) {
            const declaration = node.type === 'ExportNamedDeclaration' ? node.declaration : undefined;
            if (!declaration) continue;
            if (declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration')
              names.add(declaration.id.name);
            else if (declaration.type === 'VariableDeclaration')
              for (const d of declaration.declarations)
                if (d.id.type === 'Identifier' && /Function|Class/.test(d.init?.type ?? '')) names.add(d.id.name);
          }
          functions.set(info.id, names);
        },
      },
    ],
  });
  const { output } = await bundle.generate({ format: 'es' });
  await bundle.close();
  return new Map(
    Object.entries(output[0].modules).map(([id, m]) => [
      id,
      m.renderedExports.filter((n) => functions.get(id)?.has(n)),
    ]),
  );
}

/**
 * Functions each bundle keeps a copy of. `refused`: measured, handing it over makes the head bigger
 * (terser can no longer inline it there) by more than the core saves. `fill`: it fills its own
 * module's tables (src/touch/sources.ts), so a core given the head's would leave its own empty.
 */
const KEEP_IN_BOTH = ['refused', 'fill'];

/** [module id, export name, local name] for each function the core takes from the head. */
async function sharedFunctions() {
  const head = await analyse(join(here, 'src/entry/head.ts'));
  const core = await analyse(join(here, 'src/entry/core.ts'));
  const shared = [];
  let i = 0;
  for (const [id, names] of core)
    for (const name of names)
      if (head.get(id)?.includes(name) && !KEEP_IN_BOTH.includes(name)) shared.push([id, name, `shared${i++}`]);
  return shared;
}

/** The list's token: the modules (relative to the package) and names, in order. */
const tokenOf = (shared) =>
  createHash('sha256')
    .update(JSON.stringify(shared.map(([id, name]) => [id.slice(here.length), name])))
    .digest('hex')
    .slice(0, 12);

/**
 * In the core: src/entry/handover.ts finds the stub only with this build's token, and a shared
 * module's functions come from the stub's `_lib`, its constants from the module itself.
 */
const takeFromHead = (shared) => ({
  name: 'cairn-take-from-head',
  async resolveId(source, importer, options) {
    if (source.startsWith(SHARED)) return source;
    if (importer?.startsWith(SHARED)) return null;
    const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
    return resolved && shared.some(([id]) => id === resolved.id) ? SHARED + resolved.id : resolved;
  },
  load(id) {
    if (id === HANDOVER_MODULE) {
      const locals = shared.map(([, , local]) => local).join(', ');
      return (
        `const stub = window.cairn;\n` +
        `const lib = (stub && stub._lib) || [];\n` +
        `const same = lib[0] === ${JSON.stringify(tokenOf(shared))};\n` +
        `export const headStub = () => (same ? stub : undefined);\n` +
        `export const [, ${locals}] = same ? lib : [];\n`
      );
    }
    if (!id.startsWith(SHARED)) return null;
    const real = id.slice(SHARED.length);
    const mine = shared.filter(([module]) => module === real);
    return (
      `export * from ${JSON.stringify(real)};\n` +
      `export { ${mine.map(([, name, local]) => `${local} as ${name}`).join(', ')} } from ${JSON.stringify(HANDOVER_MODULE)};\n`
    );
  },
});

/** In the head: after the head's own code has run, its shared functions are left on the stub. */
const leaveForCore = (shared) => {
  const entry = '\0cairn-head-entry';
  return {
    name: 'cairn-leave-for-core',
    resolveId: (source) => (source === entry ? entry : null),
    load: (id) =>
      id === entry
        ? `import ${JSON.stringify(join(here, 'src/entry/head.ts'))};\n` +
          shared
            .map(([module, name, local]) => `import { ${name} as ${local} } from ${JSON.stringify(module)};\n`)
            .join('') +
          `const stub = window.cairn;\n` +
          `if (stub && stub._head) stub._lib = [${[JSON.stringify(tokenOf(shared)), ...shared.map(([, , local]) => local)].join(', ')}];\n`
        : null,
    entry,
  };
};

mkdirSync(dist, { recursive: true });
/** A file's name with the hash of its content: servers cache it as immutable. */
const named = (prefix, code) => `${prefix}.${createHash('sha256').update(code).digest('hex').slice(0, 12)}.js`;
const shared = await sharedFunctions();
// The prompts' UI, which the core asks for by name the first time a prompt is to show. It carries its
// own copies of the few helpers it needs (util/dom, util/url, prompts/pick).
const prompts = await iife(join(here, 'src/entry/prompts.ts'));
const promptsFile = named('cairn-prompts', prompts);
const core = await iife(join(here, 'src/entry/core.ts'), [takeFromHead(shared)], {
  __CAIRN_PROMPTS_FILE__: promptsFile,
});
const coreFile = named('cairn-core', core);
const handOver = leaveForCore(shared);
const head = await iife(handOver.entry, [handOver], { __CAIRN_CORE_FILE__: coreFile });

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

// Earlier builds' chunks go: only the ones the head and core name are served.
for (const f of readdirSync(dist)) if (/^cairn-(core|prompts)\..*\.js$/.test(f)) rmSync(join(dist, f));
writeFileSync(join(dist, promptsFile), prompts);
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
console.log(
  `build: dist/cairn.js (${head.length} B), dist/${coreFile} (${core.length} B), dist/${promptsFile} (${prompts.length} B), ${files.length} .js files`,
);
