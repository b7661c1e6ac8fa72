import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** `<dir>/sandbox.json`, as the sandbox writes it. */
export interface Manifest {
  console_url: string;
  api_url: string;
  admin: { username: string; password: string; totp_secret: string; otpauth_uri: string };
  demo: {
    org_id: string;
    huggingface: { token: string; namespace: string; bad_token: string };
    docker_hub: { username: string; pat: string; namespace: string };
    cloud_aws: { role_arn: string };
    cloud_gcp: { workload_identity_provider: string; service_account_email: string; project_id: string };
    cloud_azure: { tenant_id: string; client_id: string };
    cloud_cloudflare: { account_id: string; api_token: string };
  };
}

export interface RunningSandbox {
  manifest: Manifest;
  manifestPath: string;
  stop(): Promise<void>;
}

/** Start `apps/server/src/sandbox/main.ts` on free ports in a temp dir; resolves on its READY line. */
export async function startSandbox(opts: { stepUpMaxAge?: number } = {}): Promise<RunningSandbox> {
  const root = mkdtempSync(join(tmpdir(), 'alphaswarm-e2e-'));
  const dir = join(root, 'sandbox');
  const args = [
    '--import',
    'tsx',
    'apps/server/src/sandbox/main.ts',
    '--dir',
    dir,
    '--api-port',
    '0',
    '--console-port',
    '0',
  ];
  if (opts.stepUpMaxAge !== undefined) args.push('--step-up-max-age', String(opts.stepUpMaxAge));
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  await new Promise<void>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`sandbox not READY within 90 s\n${stderr}`)), 90_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (/^READY /m.test(out)) {
        clearTimeout(timer);
        ok();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`sandbox exited with code ${code} before READY\n${stderr}`));
    });
  });
  child.stdout?.resume();
  const manifestPath = join(dir, 'sandbox.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  return {
    manifest,
    manifestPath,
    stop: () => stop(child, root),
  };
}

async function stop(child: ChildProcess, root: string): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(root, { recursive: true, force: true });
}

export function readManifest(): Manifest {
  const path = process.env.E2E_SANDBOX;
  if (!path) throw new Error('E2E_SANDBOX is not set: run the suite with `pnpm e2e` (global-setup starts the sandbox)');
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}
