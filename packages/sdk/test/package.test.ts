// @vitest-environment node
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, test } from 'vitest';

// What a storefront developer installs: the ESM build, its .d.ts types, and what they import.
const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  types: string;
};

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

test('every package the ESM build or its types import is a dependency, so that it is installed with the SDK', () => {
  const imported = new Set<string>();
  for (const f of files(join(root, 'dist'))) {
    // The script tag's bundle inlines everything; the ESM build and the .d.ts files do not.
    if (f.endsWith('cairn.js') || !/\.(d\.ts|js)$/.test(f)) continue;
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'".][^'"]*)['"]/g)) {
      const spec = m[1]!;
      if (!spec.startsWith('node:'))
        imported.add(
          spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    }
  }
  expect(imported.size).toBeGreaterThan(0);
  expect([...imported].filter((p) => !pkg.dependencies?.[p])).toEqual([]);
});

// Node's own resolution (nodenext), the strictest a consumer may use: relative imports in the .d.ts
// need their extensions, and a type that does not resolve shows up as a missing export or an
// unused @ts-expect-error below. A type-check takes seconds on a busy machine: a generous limit.
test('the types resolve for a consumer on nodenext: a Touch is typed, not any', { timeout: 120_000 }, () => {
  const file = join(root, 'consumer.check.ts');
  const source = `
    import { createCairn, resolveTouch, type Cairn, type Touch } from './${pkg.types.replace(/^\.\//, '').replace(/\.d\.ts$/, '.js')}';
    const t: Touch | null = resolveTouch({ url: 'https://shop.test/?utm_source=x' });
    const channel: string | undefined = t?.channel;
    const c: Cairn = createCairn({ site: 'shop' });
    void c.page({ product: 'SKU-1' });
    void channel;
    // @ts-expect-error a Touch's source is a string
    const wrong: Touch = { source: 1, medium: 'x', channel: 'Direct', landingPath: '/', at: 0 };
    void wrong;
  `;
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => (f === file ? source : read(f));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => f === file || exists(f);
  const program = ts.createProgram([file], options, host);
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  expect(problems).toEqual([]);
});
