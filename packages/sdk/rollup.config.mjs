import nodeResolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

const terserOptions = {
  ecma: 2020,
  compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
  mangle: { properties: false },
  format: { comments: false },
};

export default [
  // The script tag: one self-starting, minified IIFE with every dependency inlined.
  {
    input: 'src/script.ts',
    output: { file: 'dist/cairn.js', format: 'iife', sourcemap: false },
    plugins: [
      nodeResolve({ browser: true }),
      typescript({ tsconfig: './tsconfig.json', declaration: false, outDir: 'dist' }),
      terser(terserOptions),
    ],
  },
  // The ESM build for bundlers and Node, with .d.ts. Dependencies stay external.
  {
    input: 'src/index.ts',
    output: { dir: 'dist', format: 'es', entryFileNames: 'index.js', sourcemap: true },
    external: ['idb-keyval', 'js-cookie'],
    plugins: [typescript({ tsconfig: './tsconfig.json', declaration: true, declarationDir: 'dist', outDir: 'dist', sourceMap: true })],
  },
];
