import { rollup } from 'rollup';
import nodeResolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import { minify } from '/work/main/node_modules/.pnpm/terser@5.51.4/node_modules/terser/main.js';
import zlib from 'zlib';
import fs from 'fs';
const entries = { touch: "import {resolveTouch} from './touch'; globalThis.a=resolveTouch;", variants: "import {startVariants,hideSlots} from './variants'; globalThis.a=[startVariants,hideSlots];", prompts: "import {startPrompts} from './prompts'; globalThis.a=startPrompts;" };
const want = process.argv.slice(2);
for (const [k, code] of Object.entries(entries)) {
  if (want.length && !want.includes(k)) continue;
  const virt = { name: 'v', resolveId(s) { return s === 'ENTRY' ? '\0ENTRY' : null; }, load(id) { return id === '\0ENTRY' ? code : null; } };
  const virt2 = { name: 'v2', resolveId(s, imp) { if (imp === '\0ENTRY') return this.resolve(s, process.cwd() + '/src/script.ts'); return null; } };
  const b = await rollup({ input: 'ENTRY', onwarn() {}, plugins: [virt, virt2, nodeResolve({ browser: true }), typescript({ tsconfig: './tsconfig.json', declaration: false, outDir: 'dist', noEmitOnError: false })] });
  const { output } = await b.generate({ format: 'iife' });
  const r = await minify(output[0].code, { ecma: 2020, compress: { passes: 3, unsafe_arrows: true, pure_getters: true }, mangle: { properties: false }, format: { comments: false } });
  fs.writeFileSync('/tmp/cairn-min-' + k + '.js', r.code);
  console.log(k, 'min', r.code.length, 'gz', zlib.gzipSync(r.code, { level: 9 }).length);
}
