/**
 * Builds the published package into dist/ and packs it into pack/:
 *   dist/index.js    the client, bundled by esbuild; only @trpc/client stays external
 *   dist/index.d.ts  one declaration file: the client's options and factory, and the router's
 *                    procedures with every input, output and the error shape written out as plain
 *                    TypeScript types. A d.ts bundler (rollup-plugin-dts, api-extractor) copies the
 *                    declarations it reaches, and the router's type reaches the server's context
 *                    (drizzle, pino, the providers' SDKs) and zod; here the compiler evaluates the
 *                    types instead, so callers need neither.
 *   pack/*.tgz       `pnpm pack` of the above (catalog versions resolved), installable with plain npm.
 *
 *   pnpm --filter @alphaswarm/admin-client build
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const packDir = join(root, 'pack');
rmSync(dist, { recursive: true, force: true });
rmSync(packDir, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [join(root, 'src/index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['@trpc/client'],
  legalComments: 'none',
});

// ───────────── the router's types, evaluated by the compiler ─────────────

const probePath = join(root, 'src/.types-probe.ts');
// The helpers live in a function, where the printer cannot name them, and they rebuild every union
// (wrapping and unwrapping each member), so that no alias of the API survives to be named: the
// compiler writes each type out in full.
writeFileSync(
  probePath,
  `import type { AppRouter } from '@alphaswarm/api/client';
export function probe() {
  type Wrap<T> = T extends object ? { v: { [K in keyof T]: Expand<T[K]> } } : { v: T };
  type Unwrap<W> = W extends { v: infer U } ? U : never;
  type Expand<T> = Unwrap<Wrap<T>>;
  type Procedures<R> = R extends { _def: { type: infer P; $types: { input: infer I; output: infer O } } }
    ? { $procedure: P; input: Expand<I>; output: Expand<O> }
    : { [K in keyof R]: Procedures<R[K]> };
  type ProcedureTypes = Procedures<AppRouter['_def']['record']>;
  type ErrorShape = Expand<AppRouter['_def']['_config']['$types']['errorShape']>;
}
`,
);
let procedures: string;
let errorShape: string;
try {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.json of admin-client could not be read');
  const program = ts.createProgram([probePath], config.options);
  const errors = ts.getPreEmitDiagnostics(program, program.getSourceFile(probePath));
  if (errors.length) throw new Error(ts.formatDiagnostics(errors, ts.createCompilerHost(config.options)));
  const checker = program.getTypeChecker();
  const printed = new Map<string, string>();
  const file = program.getSourceFile(probePath);
  const body = file?.statements.find(ts.isFunctionDeclaration)?.body?.statements ?? [];
  for (const statement of body) {
    if (!ts.isTypeAliasDeclaration(statement)) continue;
    const type = checker.getTypeAtLocation(statement.name);
    const text = checker.typeToString(type, file, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias);
    printed.set(statement.name.text, text);
  }
  procedures = printed.get('ProcedureTypes') ?? '';
  errorShape = printed.get('ErrorShape') ?? '';
  // An evaluated type never names anything the declaration file does not hold.
  // An evaluated type names nothing the declaration file does not hold.
  const named = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isTypeReferenceNode(node)) named.add(node.typeName.getText());
    if (ts.isImportTypeNode(node) || node.kind === ts.SyntaxKind.AnyKeyword) named.add(node.getText());
    node.forEachChild(visit);
  };
  visit(
    ts.createSourceFile('check.ts', `type P = ${procedures}; type E = ${errorShape};`, ts.ScriptTarget.ES2022, true),
  );
  if (named.size) throw new Error(`the router types still name ${[...named].join(', ')}: make them evaluable`);
} finally {
  rmSync(probePath, { force: true });
}

// The client's own declarations, minus the router types it imports from the API package.
const clientSource = join(root, '../api/src/client.ts');
const client = ts.transpileDeclaration(readFileSync(clientSource, 'utf8'), {
  fileName: clientSource,
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
});
if (client.diagnostics?.length) throw new Error(`client.ts: ${client.diagnostics[0]?.messageText}`);
const clientLines = client.outputText.split('\n');
const local = clientLines.filter((line) => /from '\.\/root'/.test(line));
if (local.length !== 2) throw new Error(`client.ts: expected its two './root' lines, found ${local.length}`);

const declarations = `// Generated by scripts/build.ts from the admin API's router: do not edit.
import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure, inferRouterInputs, inferRouterOutputs } from '@trpc/server';
${clientLines.filter((line) => !local.includes(line)).join('\n')}
/** Every procedure of the admin API: its kind, its input and its output. */
type Procedures = ${procedures};
type Decorate<R> = {
  [K in keyof R]: R[K] extends { $procedure: 'query'; input: infer I; output: infer O }
    ? TRPCQueryProcedure<{ input: I; output: O; meta: object }>
    : R[K] extends { $procedure: 'mutation'; input: infer I; output: infer O }
      ? TRPCMutationProcedure<{ input: I; output: O; meta: object }>
      : Decorate<R[K]>;
};
/** The shape of an error's data: \`data.app_code\` is the stable code (the same as REST's \`error.code\`). */
export type AppErrorShape = ${errorShape};
export type AppRouter = TRPCBuiltRouter<{ ctx: object; meta: object; errorShape: AppErrorShape; transformer: false }, Decorate<Procedures>>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
`;
// The compiler prints types on one line; its printer lays the file out.
const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
writeFileSync(
  join(dist, 'index.d.ts'),
  printer.printFile(ts.createSourceFile('index.d.ts', declarations, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)),
);

mkdirSync(packDir, { recursive: true });
execFileSync('pnpm', ['pack', '--pack-destination', packDir], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
process.stdout.write(`built ${join(dist, 'index.js')}, ${join(dist, 'index.d.ts')} and a tarball in ${packDir}\n`);
