import { rollup } from 'rollup';
import nodeResolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import { minify } from '/work/main/node_modules/.pnpm/terser@5.51.4/node_modules/terser/main.js';
import zlib from 'zlib';
const all = { './touch': 'export const resolveTouch=(x)=>globalThis.__t(x)', './variants': 'export const startVariants=(x)=>globalThis.__v(x);export const hideSlots=(x)=>globalThis.__h(x)', './prompts': 'export const startPrompts=(x)=>globalThis.__p(x)' };
async function size(stubs) {
  const virt = { name: 'v', resolveId(s, imp) { return stubs[s] && imp && /src\/cairn\.ts$/.test(imp) ? '\0' + s : null; }, load(id) { return id[0] === '\0' ? stubs[id.slice(1)] : null; } };
  const b = await rollup({ input: 'src/script.ts', onwarn() {}, plugins: [virt, nodeResolve({ browser: true }), typescript({ tsconfig: './tsconfig.json', declaration: false, outDir: 'dist', noEmitOnError: false })] });
  const { output } = await b.generate({ format: 'iife' });
  const r = await minify(output[0].code, { ecma: 2020, compress: { passes: 3, unsafe_arrows: true, pure_getters: true }, mangle: { properties: false }, format: { comments: false } });
  return zlib.gzipSync(r.code, { level: 9 }).length;
}
const full = await size({});
const out = { full };
for (const k of Object.keys(all)) out[k] = full - (await size({ [k]: all[k] }));
out.none = await size(all);
out.mine = full - out.none;
console.log(JSON.stringify(out));
