// Section 1: raw, gzip -9 and brotli sizes of Cairn's script-tag files (the head, cairn.js, and the
// core chunk it loads after first paint) beside the peers' script-tag files.
// "Loads more code at run time" is decided from each file's own text: a loader pattern found (or
// not) in the file, so the column cannot drift from the package that was measured.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { CAIRN_JS, NODE_MODULES } from './paths.mjs';
import { pkgVersion, table } from './report.mjs';
import { fmtKB, ratio } from './stats.mjs';

/** Sizes of one file's text. @param {Buffer|string} buf */
export function sizes(buf) {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf);
  return {
    raw: b.length,
    gzip: gzipSync(b, { level: 9 }).length,
    brotli: brotliCompressSync(b, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: b.length,
      },
    }).length,
  };
}

/**
 * The script-tag files. `loads(src)` looks for the loader in the file; `yes`/`no` say why.
 * @type {{ name: string, pkg: string, file: string, note?: string, minify?: boolean, loads: (src: string) => boolean, yes: string, no: string }[]}
 */
export const PEERS = [
  {
    name: 'PostHog',
    pkg: 'posthog-js',
    file: 'dist/array.js',
    // loadExternalDependency builds `/static/<name>.js` URLs and appends a <script>.
    loads: (s) => /\/static\/\$\{\w+\}\.js/.test(s) && /createElement\(["']script["']\)/.test(s),
    yes: 'yes: lazy-loads extensions (recorder, surveys, toolbar…) from /static/*.js',
    no: 'no loader found',
  },
  {
    name: 'Segment',
    pkg: '@segment/analytics-next',
    file: 'dist/umd/standalone.js',
    loads: (s) => /cdn\.segment\.com\/analytics-next\/bundles\//.test(s),
    yes: 'yes: fetches CDN settings, then chunk bundles and destination scripts',
    no: 'no loader found',
  },
  {
    name: 'GrowthBook',
    pkg: '@growthbook/growthbook',
    file: 'dist/bundles/auto.min.js',
    // Its only <script> element gets innerHTML (a variation's inline js), never a src.
    loads: (s) => /createElement\(["']script["']\)[^;]{0,40}\.src\s*=/.test(s),
    yes: 'yes: appends script elements with a src',
    no: 'no: fetches only its features JSON from the API host',
  },
  {
    name: 'Snowplow',
    pkg: '@snowplow/browser-tracker',
    file: 'dist/index.umd.min.js',
    loads: (s) => /createElement\(["']script["']\)|\bimport\(/.test(s),
    yes: 'yes: has a script loader',
    no: 'no: plugins are separate packages, bundled at build time',
  },
  {
    name: 'RudderStack',
    pkg: '@rudderstack/analytics-js',
    file: 'dist/npm/modern/umd/index.js',
    // The npm package ships no minified build (the CDN's rsa.min.js is not in it): minify it here.
    minify: true,
    note: 'modern UMD, minified here with terser',
    loads: (s) => /rsa-plugins\.js/.test(s) && /__federation/.test(s),
    yes: 'yes: loads its plugins from the CDN (module federation), then destinations',
    no: 'no loader found',
  },
];

async function minify(src) {
  const { minify: terser } = await import('terser');
  const r = await terser(src, { compress: true, mangle: true, ecma: 2017, format: { comments: false } });
  if (typeof r.code !== 'string') throw new Error('terser returned no code');
  return r.code;
}

/** The core chunk the head names (`cairn-core.<hex>.js`), or null when it names none. */
export function coreFileOf(headSrc) {
  return /cairn-core\.[0-9a-f]{8,64}\.js/.exec(headSrc)?.[0] ?? null;
}

/** Measures every file; throws if cairn.js, or the core chunk it names, has not been built. */
export async function measureBytes() {
  if (!existsSync(CAIRN_JS))
    throw new Error(`${CAIRN_JS} is missing: build the SDK first (node scripts/pnpm.mjs run build)`);
  const cairnSrc = readFileSync(CAIRN_JS, 'utf8');
  const coreFile = coreFileOf(cairnSrc);
  const corePath = coreFile && join(dirname(CAIRN_JS), coreFile);
  if (corePath && !existsSync(corePath))
    throw new Error(`${corePath} (named by cairn.js) is missing: build the SDK again`);
  const cairn = {
    name: 'Cairn head',
    file: '@cairn/sdk dist/cairn.js (render-blocking)',
    ...sizes(cairnSrc),
    loads: coreFile
      ? `yes: its core, ${coreFile}, after first paint`
      : /createElement\(["']script["']\)|\bimport\(|importScripts/.test(cairnSrc)
        ? 'yes: has a script loader'
        : 'no: one file; its config is inline or embedded by /v1/sdk.js',
  };
  const core = corePath
    ? {
        name: 'Cairn core',
        file: `@cairn/sdk dist/${coreFile} (after first paint)`,
        ...sizes(readFileSync(corePath)),
        loads: 'no',
      }
    : null;
  const peers = [];
  for (const p of PEERS) {
    const path = join(NODE_MODULES, p.pkg, p.file);
    const src = readFileSync(path, 'utf8');
    const shipped = p.minify ? await minify(src) : src;
    peers.push({
      name: p.name,
      file: `${p.pkg}@${pkgVersion(p.pkg)} ${p.file}${p.note ? ` (${p.note})` : ''}`,
      ...sizes(shipped),
      loads: p.loads(src) ? p.yes : p.no,
    });
  }
  return { cairn, core, peers };
}

/**
 * The budget on Cairn's render-blocking code, the head, gzip -9 (packages/sdk/test/budget.test.ts
 * holds a ratchet on the way to it). The core has none of its own: what a visitor downloads is
 * budgeted on the wire, in section 2.
 */
export const HEAD_BUDGET = 5000;

export async function bytesSection() {
  const { cairn, core, peers } = await measureBytes();
  const both = core
    ? {
        name: 'Cairn, both',
        file: 'head + core',
        raw: cairn.raw + core.raw,
        gzip: cairn.gzip + core.gzip,
        brotli: cairn.brotli + core.brotli,
        loads: '',
      }
    : cairn;
  const ours = core ? [cairn, core, both] : [cairn];
  const rows = [...ours, ...peers].map((r) => [
    r.name,
    r.file,
    fmtKB(r.raw),
    fmtKB(r.gzip),
    fmtKB(r.brotli),
    ours.includes(r) ? (r === both ? '1.0×' : '–') : ratio(r.gzip, both.gzip),
    r.loads,
  ]);
  const over = (x) => (x <= HEAD_BUDGET ? 'within budget' : 'OVER BUDGET');
  const bytes = (x) => `${x.toLocaleString('en-US')} B`;
  const body = [
    table(['script', 'file', 'raw', 'gzip -9', 'brotli (q11)', 'gzip vs Cairn', 'loads more code at run time'], rows),
    '',
    `Cairn's render-blocking code, the head, has a budget of ${bytes(HEAD_BUDGET)} gzip -9: it is at ${bytes(cairn.gzip)} (${over(cairn.gzip)}). ` +
      (core
        ? 'The core, after first paint, has no gzip budget of its own: what a visitor downloads is budgeted on the wire (section 2).'
        : ''),
    `The ratio is the peer's gzip size over ${core ? "Cairn's two files together" : "Cairn's"}; the peers' sizes are only what the first script tag downloads. ` +
      'These are the built files; what the demo sends, config embedded and compressed by the sync server, is in section 2.',
  ].join('\n');
  return {
    title: '1. Bytes',
    body,
    headline: {
      cairnGzip: both.gzip,
      headGzip: cairn.gzip,
      headBudget: HEAD_BUDGET,
      coreGzip: core?.gzip ?? null,
      peers: peers.map((p) => ({ name: p.name, gzip: p.gzip })),
    },
  };
}
