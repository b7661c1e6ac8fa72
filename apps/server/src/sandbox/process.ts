import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoCredentials } from './upstreams';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The compiled sandbox (`pnpm --filter @alphaswarm/server build`, run by scripts/setup.sh). */
export const SANDBOX_ENTRY = join(REPO, 'apps/server/dist/sandbox.js');

export interface SandboxAdmin {
  username: string;
  password: string;
  totp_secret: string;
  otpauth_uri: string;
}

/** `<dir>/sandbox.json`, as the sandbox writes it (mode 0600). */
export interface SandboxManifest {
  console_url: string | null;
  api_url: string;
  /** The first of `admins`. */
  admin: SandboxAdmin;
  /** Each with a TOTP secret of its own, so sign-ins in parallel never wait for another's code to expire. */
  admins: SandboxAdmin[];
  demo: DemoCredentials;
  /** The alert receiver: `GET` lists what arrived; POST a signed webhook to it, or a Slack message to `<url>slack`. */
  alerts_url: string;
  /** The demo company IdP the console signs in with (SSO), and its users. */
  sso: {
    issuer: string;
    users: { username: string; password: string; groups: string[]; mfa: boolean; role: string }[];
  };
}

/**
 * Chromium keeps only the last `--disable-features`, and Playwright passes its own list first: this
 * one repeats Playwright's (1.65) and adds the two WebUI omnibox popups that every new window of
 * headless Chromium 15x preloads in a renderer of its own. Each context is a window, so those
 * popups cost about a fifth of the browser suite's CPU.
 */
const DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'WebUIOmniboxPopup',
  'WebUIOmniboxAimPopup',
];

/**
 * Debian's Chromium (never a downloaded browser), with the flags this closed network needs, and
 * software compositing without the GPU process's rasterizer (there is no GPU to emulate).
 */
export const CHROMIUM_LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-gpu-compositing',
    '--disable-software-rasterizer',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--disable-features=${DISABLED_FEATURES.join(',')}`,
  ],
};

export interface RunningSandbox {
  manifest: SandboxManifest & { console_url: string };
  manifestPath: string;
  /** Stop the console and start a new one on the same port (the sandbox's SIGHUP); resolves once it answers. */
  restartConsole(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start the compiled sandbox (`main.ts`) as a child process on free ports in a temporary directory
 * and resolve on its READY line, for browser tests and benchmarks. `stop` sends Ctrl-C and cleans up.
 */
export async function startSandboxProcess(
  opts: { stepUpMaxAge?: number; admins?: number; timeoutMs?: number; consoleHost?: 'localhost' } = {},
): Promise<RunningSandbox> {
  if (!existsSync(SANDBOX_ENTRY)) {
    throw new Error(
      `The sandbox is not built (no ${SANDBOX_ENTRY}): run \`pnpm --filter @alphaswarm/server build\` or \`bash scripts/setup.sh\`.`,
    );
  }
  const root = mkdtempSync(join(tmpdir(), 'alphaswarm-sandbox-'));
  const dir = join(root, 'sandbox');
  const args = [SANDBOX_ENTRY, '--dir', dir, '--api-port', '0', '--console-port', '0'];
  if (opts.stepUpMaxAge !== undefined) args.push('--step-up-max-age', String(opts.stepUpMaxAge));
  if (opts.admins !== undefined) args.push('--admins', String(opts.admins));
  if (opts.consoleHost) args.push('--console-host', opts.consoleHost);
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const timeoutMs = opts.timeoutMs ?? 90_000;
  try {
    await new Promise<void>((ok, fail) => {
      let out = '';
      const timer = setTimeout(
        () => fail(new Error(`sandbox not READY within ${timeoutMs / 1000} s\n${stderr}`)),
        timeoutMs,
      );
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
  } catch (error) {
    await stop(child, root);
    throw error;
  }
  let restarted: (() => void) | null = null;
  child.stdout?.on('data', (c: Buffer) => {
    if (restarted && /^CONSOLE RESTARTED$/m.test(c.toString())) restarted();
  });
  const manifestPath = join(dir, 'sandbox.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as RunningSandbox['manifest'];
  const restartConsole = () =>
    new Promise<void>((ok) => {
      restarted = () => {
        restarted = null;
        ok();
      };
      child.kill('SIGHUP');
    });
  return { manifest, manifestPath, restartConsole, stop: () => stop(child, root) };
}

async function stop(child: ChildProcess, root: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(root, { recursive: true, force: true });
}
