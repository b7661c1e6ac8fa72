import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/*
 * What each entry of the package loads at run time, read from the source the way the runtime
 * will see it (verbatimModuleSyntax: only `import type` / `export type` declarations vanish; an
 * import whose names are all inline `type` still loads its module). `import('…')` calls load
 * their module later, on first use: the static graph leaves them out, the full graph follows them.
 */

const SRC = dirname(fileURLToPath(import.meta.url));

interface Graph {
  /** Our source files, relative to src/. */
  files: Set<string>;
  /** Packages loaded (node: builtins left out). */
  packages: Set<string>;
}

function runtimeSpecifiers(file: string, lazy: boolean): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  const visit = (node: ts.Node): void => {
    const [specifier] =
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword ? node.arguments : [];
    if (specifier && ts.isStringLiteral(specifier)) out.push(specifier.text);
    ts.forEachChild(node, visit);
  };
  if (lazy) visit(source);
  return out;
}

function resolveLocal(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  throw new Error(`cannot resolve ${specifier} from ${from}`);
}

const graphs = new Map<string, Graph>();

function graphOf(entry: string, opts: { lazy: boolean } = { lazy: true }): Graph {
  const key = `${entry} ${opts.lazy}`;
  const known = graphs.get(key);
  if (known) return known;
  const graph: Graph = { files: new Set(), packages: new Set() };
  const pending = [join(SRC, entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    const name = relative(SRC, file);
    if (graph.files.has(name)) continue;
    graph.files.add(name);
    for (const specifier of runtimeSpecifiers(file, opts.lazy)) {
      if (specifier.startsWith('.')) pending.push(resolveLocal(file, specifier));
      else if (!specifier.startsWith('node:')) {
        graph.packages.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
      }
    }
  }
  graphs.set(key, graph);
  return graph;
}

/** `<folder>/<name>` for every kind folder holding that file, sorted. */
function kindFiles(name: string): string[] {
  return readdirSync(SRC, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(SRC, d.name, name)))
    .map((d) => `${d.name}/${name}`)
    .sort();
}

const SDKS = [
  '@aws-sdk/client-sts',
  '@aws-sdk/client-iam',
  '@aws-sdk/client-ec2',
  '@azure/identity',
  'google-auth-library',
];

describe('package entries', () => {
  it("'.' (production) loads every provider and SDK but no fake and nothing from testing/", () => {
    const graph = graphOf('index.ts');
    expect(graph.files).toContain('registry.ts');
    for (const sdk of SDKS) expect(graph.packages).toContain(sdk);
    const fakes = [...graph.files].filter((f) => /(^|\/)fakes?\.ts$/.test(f) || f.startsWith('testing/'));
    expect(fakes).toEqual([]);
  });

  it("'.' loads the cloud SDKs on first use only: a server or CLI start does not pay for them", () => {
    const atStart = graphOf('index.ts', { lazy: false });
    expect(atStart.files).toContain('registry.ts');
    expect(SDKS.filter((sdk) => atStart.packages.has(sdk))).toEqual([]);
  });

  it("'./fakes' reaches every kind's fake", () => {
    const fakes = [...graphOf('fakes.ts').files].filter((f) => f.endsWith('/fake.ts')).sort();
    expect(fakes).toEqual(kindFiles('fake.ts'));
  });

  it("'./descriptors' loads no SDK, no HTTP client, no provider and no fake: only contracts (and its zod)", () => {
    const graph = graphOf('descriptors.ts', { lazy: false });
    expect([...graph.packages].sort()).toEqual(['@alphaswarm/contracts', 'zod']);
    expect([...graph.files].filter((f) => /(client|provider|fake|http)\.ts$/.test(f))).toEqual([]);
  });

  it("'.' reaches every kind's provider, through the registry's one list, on first use only", () => {
    const lazily = [...graphOf('index.ts').files].filter((f) => f.endsWith('/provider.ts')).sort();
    expect(lazily).toEqual(kindFiles('provider.ts'));
    expect([...graphOf('index.ts', { lazy: false }).files].filter((f) => f.endsWith('/provider.ts'))).toEqual([]);
  });
});
