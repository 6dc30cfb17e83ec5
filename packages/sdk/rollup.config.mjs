import nodeResolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

// The script tag's IIFE body is module code (strict, one scope of its own): `module` lets terser
// treat it so. The `unsafe` family gains under 10 bytes here and is left off.
const terserOptions = {
  ecma: 2020,
  module: true,
  toplevel: true,
  compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
  mangle: { properties: false },
  format: { comments: false },
};

export default [
  // The script tag: one self-starting, minified IIFE with every dependency inlined.
  {
    input: 'src/script.ts',
    output: { file: 'dist/cairn.js', format: 'iife', strict: false, sourcemap: false },
    plugins: [
      nodeResolve({ browser: true }),
      typescript({ tsconfig: './tsconfig.json', declaration: false, outDir: 'dist' }),
      terser(terserOptions),
    ],
  },
  // The ESM build for bundlers and Node, with .d.ts. Dependencies stay external; not minified.
  {
    input: 'src/index.ts',
    output: { dir: 'dist', format: 'es', entryFileNames: 'index.js', sourcemap: true },
    external: ['idb-keyval'],
    plugins: [typescript({ tsconfig: './tsconfig.json', declaration: true, declarationDir: 'dist', outDir: 'dist', sourceMap: true })],
  },
];
