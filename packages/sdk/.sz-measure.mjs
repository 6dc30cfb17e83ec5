import { rollup } from 'rollup';
import nodeResolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import { minify } from '/work/main/node_modules/.pnpm/terser@5.51.4/node_modules/terser/main.js';
import { gzipSync } from 'node:zlib';
const b = await rollup({ input: 'src/script.ts', plugins: [nodeResolve({ browser: true }), typescript({ tsconfig: './tsconfig.json', declaration: false, outDir: 'dist', noEmitOnError: false })], onwarn() {} });
const { output } = await b.generate({ format: 'iife' });
const rows = [];
for (const [id, m] of Object.entries(output[0].modules)) {
  if (!m.code) continue;
  const min = await minify(m.code, { module: false, toplevel: false, compress: { passes: 2 }, mangle: true });
  rows.push([id.replace(/.*\/(src|node_modules)\//, ''), m.renderedLength, min.code.length, gzipSync(min.code, { level: 9 }).length]);
}
rows.sort((a, b) => b[3] - a[3]);
for (const r of rows) console.log(r.join('\t'));
const all = await minify(output[0].code, { compress: { passes: 3 }, mangle: true });
console.log('TOTAL min', all.code.length, 'gz', gzipSync(all.code, { level: 9 }).length);
