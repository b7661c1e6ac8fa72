import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isoNow, upsertLink } from '@alphaswarm/db';
import { linkWrite } from '@alphaswarm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/harness';

const run = promisify(execFile);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGE = join(REPO, 'packages/admin-client');
const TYPESCRIPT = dirname(createRequire(import.meta.url).resolve('typescript/package.json'));

/** Runs a command; resolves with its exit code and output instead of throwing on a non-zero exit. */
async function sh(cmd: string, args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const CORRECT = `
import { createAdminClient, type RouterOutputs } from '@alphaswarm/admin-client';
declare const process: { argv: string[] };
const [url, token] = process.argv.slice(2) as [string, string];
const admin = createAdminClient({ url, token: async () => token });
const got: RouterOutputs['integrations']['get'] = await admin.integrations.get.query({ org_id: 'org-acme', kind: 'cloud_aws' });
console.log(JSON.stringify(got));
`;

const WRONG = `
import { createAdminClient } from '@alphaswarm/admin-client';
const admin = createAdminClient({ url: 'http://127.0.0.1:1', token: 't' });
// Docker Hub's fields are not Hugging Face's input.
await admin.integrations.connect.huggingface.mutate({ org_id: 'org-acme', username: 'u', pat: 'p' });
// No such kind.
await admin.integrations.get.query({ org_id: 'org-acme', kind: 'github' });
`;

/**
 * @alphaswarm/admin-client as a sibling service sees it: the tarball `pnpm pack` makes, installed
 * with plain npm into a project outside the workspace, type-checked there, and run against a live
 * server. The tarball comes from the package's turbo build (a cache hit unless its sources changed).
 */
describe('the packed admin client, outside the workspace', () => {
  let h: Harness;
  let project: string;
  let tsc: { code: number; out: string };

  beforeAll(async () => {
    const built = await sh(
      'pnpm',
      ['exec', 'turbo', 'run', 'build', '--filter=@alphaswarm/admin-client', '--output-logs=errors-only'],
      REPO,
    );
    expect(built.code, built.out).toBe(0);
    const tarball = readdirSync(join(PACKAGE, 'pack')).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    project = mkdtempSync(join(tmpdir(), 'alphaswarm-sibling-'));
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'sibling-service',
        private: true,
        type: 'module',
        dependencies: { '@alphaswarm/admin-client': `file:${join(PACKAGE, 'pack', tarball ?? '')}` },
        // The workspace's compiler, linked: the tarball's peers (@trpc/server) come from the registry or npm's cache.
        devDependencies: { typescript: `file:${TYPESCRIPT}` },
      }),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'ESNext.Disposable', 'DOM'],
          strict: true,
          types: [],
          // The declaration file is checked too, not just used; TypeScript's own lib files (DOM
          // alone is 40,000 lines, two thirds of the check's time) are not the package's to check.
          skipLibCheck: false,
          skipDefaultLibCheck: true,
        },
        files: ['correct.ts', 'wrong.ts'],
      }),
    );
    writeFileSync(join(project, 'correct.ts'), CORRECT);
    writeFileSync(join(project, 'wrong.ts'), WRONG);
    const installed = await sh(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
      project,
    );
    expect(installed.code, installed.out).toBe(0);
    tsc = await sh(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);

    h = await startHarness();
    await upsertLink(
      h.store.db,
      linkWrite({
        orgId: 'org-acme',
        kind: 'cloud_aws',
        namespace: '111122223333',
        metadata: { role_arn: 'arn:aws:iam::111122223333:role/alphaswarm' },
      }),
      isoNow(new Date()),
    );
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('installs with npm depending only on @trpc/client, and ships ESM with one declaration file', async () => {
    const manifest = (await import(join(project, 'node_modules/@alphaswarm/admin-client/package.json'), {
      with: { type: 'json' },
    })) as { default: { dependencies: Record<string, string>; files: string[] } };
    expect(Object.keys(manifest.default.dependencies)).toEqual(['@trpc/client']);
    expect(readdirSync(join(project, 'node_modules/@alphaswarm/admin-client/dist')).sort()).toEqual([
      'index.d.ts',
      'index.js',
    ]);
  });

  it('type-checks a correct call and refuses a wrong input', () => {
    const errors = tsc.out.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(tsc.code).not.toBe(0);
    expect(
      errors.filter((line) => !line.startsWith('wrong.ts')),
      tsc.out,
    ).toEqual([]);
    expect(errors.join('\n')).toMatch(/wrong\.ts\(5,\d+\): error TS2353: .*'username' does not exist/);
    expect(errors.join('\n')).toMatch(/wrong\.ts\(7,\d+\): error TS2322: Type '"github"' is not assignable/);
    expect(errors).toHaveLength(2);
  });

  it('runs the correct call against a live server', async () => {
    const result = await sh(process.execPath, ['correct.js', h.url, await h.token()], project);
    expect(result.code, result.out).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      integration: { org_id: 'org-acme', kind: 'cloud_aws', namespace: '111122223333', status: 'healthy' },
    });
  });
});
