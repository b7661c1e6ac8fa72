// The sandbox: server + console + loopback fakes of every upstream + a seeded admin, offline, one command.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKey, Keyring, openStore } from '@alphaswarm/db';
import { freePort } from '@alphaswarm/db/testing';
import pino from 'pino';
import QRCode from 'qrcode';
import { createAdminUser } from '../auth/idp';
import { warmCloudSdks } from '../cli/serve';
import { parseEnv } from '../env';
import { listen } from '../http-server';
import { createLogger } from '../logger';
import { createRuntime } from '../runtime';
import { startAlertDispatcher } from '../services/alerts';
import { startHealthSweeper } from '../services/sweep';
import type { SandboxAdmin, SandboxManifest } from './process';
import { SEEDED_ORGS, seedAttentionOrgs } from './seed';
import { startDemoUpstreams } from './upstreams';
import { startWebhookReceiver } from './webhook-receiver';

/** The console's client at the demo IdP; the sandbox is its only user, so the secret is minted per run. */
const SSO_CLIENT_ID = 'alphaswarm-console';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
/** Linux routes all of 127.0.0.0/8 to loopback, so this needs no setup. */
const CONSOLE_SOURCE_ADDRESS = '127.0.0.2';

/**
 * Until the console says it listens (its own line: an answer on the port could come from some
 * other process) and then answers `url`.
 */
async function waitFor(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await new Promise<void>((ok, fail) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`the console did not listen within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      error ? fail(error) : ok();
    };
    const onData = (c: Buffer) => {
      out = (out + c.toString()).slice(-4000);
      if (/^Listening on /m.test(out)) done();
    };
    const onExit = (code: number | null) => done(new Error(`the console exited with code ${code} before listening`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the console exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the console did not answer at ${url} within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: join(REPO, '.sandbox') },
      'api-port': { type: 'string', default: '8700' },
      'console-port': { type: 'string', default: '3000' },
      // Passkeys need a host name (browsers refuse an IP address as a WebAuthn RP id).
      'console-host': { type: 'string', default: '127.0.0.1' },
      'step-up-max-age': { type: 'string', default: '600' },
      admins: { type: 'string', default: '1' },
      'no-console': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: sandbox [--dir DIR] [--api-port N] [--console-port N] [--console-host localhost] [--step-up-max-age S] [--admins N] [--no-console]\n' +
        'Starts fakes of all six upstreams, the API server and the console, seeds N admins (admin, admin-2, …; 1 by\n' +
        'default), writes DIR/sandbox.json.\n' +
        'Ports 0 pick free ones. The directory is wiped at start: it only ever holds sandbox data.\n',
    );
    return;
  }
  const dir = resolve(values.dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const apiPort = Number(values['api-port']) || (await freePort());
  const consolePort = Number(values['console-port']) || (await freePort());
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const consoleHost = values['console-host'] === 'localhost' ? 'localhost' : '127.0.0.1';
  const consoleUrl = `http://${consoleHost}:${consolePort}`;

  const up = await startDemoUpstreams({ workloadIssuer: `${apiUrl}/workload` });
  const receiver = await startWebhookReceiver();
  // The demo company IdP: loaded only here, so `serve` never carries an OpenID Provider.
  const { startDemoIdp } = await import('./demo-idp');
  const ssoSecret = randomBytes(24).toString('base64url');
  const demoPassword = () => randomBytes(9).toString('base64url');
  const ssoUsers = [
    { username: 'platform-admin', groups: ['platform-admins'], mfa: true, role: 'admin:cluster' },
    { username: 'no-mfa', groups: ['platform-admins'], mfa: false, role: 'admin:cluster (no MFA: reads only)' },
    { username: 'acme-admin', groups: ['acme-admins'], mfa: true, role: `admin:org:${up.demo.org_id}` },
    { username: 'viewer', groups: ['platform-viewers'], mfa: true, role: 'admin:read' },
  ].map((u) => ({ ...u, password: demoPassword() }));
  const idp = await startDemoIdp({
    audience: apiUrl,
    // Another site than the console's, as a company's IdP is: the browser then treats the way back
    // from it as a cross-site navigation, which is what the console's callback must work with.
    issuerHost: consoleHost === 'localhost' ? '127.0.0.1' : 'localhost',
    clients: [
      { client_id: SSO_CLIENT_ID, client_secret: ssoSecret, redirect_uris: [`${consoleUrl}/login/sso/callback`] },
    ],
    users: ssoUsers.map((u) => ({ ...u, name: u.username, email: `${u.username}@example.test` })),
  });
  const key = generateKey();
  const env = parseEnv({
    ALPHASWARM_ENV: 'sandbox',
    ALPHASWARM_ADMIN_DB_PATH: join(dir, 'admin.db'),
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key,
    ALPHASWARM_ADMIN_INTEGRATIONS_PATH: join(dir, 'integrations.json'),
    ALPHASWARM_ADMIN_HOST: '127.0.0.1',
    ALPHASWARM_ADMIN_PORT: String(apiPort),
    ALPHASWARM_ADMIN_PUBLIC_URL: apiUrl,
    // Hand-off links and passkeys (their WebAuthn origin) belong to the console's public pages.
    ...(values['no-console'] ? {} : { ALPHASWARM_ADMIN_CONSOLE_URL: consoleUrl }),
    ALPHASWARM_ADMIN_STEP_UP_MAX_AGE: values['step-up-max-age'],
    ALPHASWARM_ADMIN_HEALTH_INTERVAL: '300',
    ALPHASWARM_ADMIN_ALERT_WEBHOOK_URL: receiver.url,
    ALPHASWARM_ADMIN_ALERT_WEBHOOK_SECRET: receiver.secret,
    // The API trusts the demo IdP's access tokens and reads roles from their groups.
    ALPHASWARM_ADMIN_OIDC_ISSUER: idp.issuer,
    ALPHASWARM_ADMIN_OIDC_AUDIENCE: apiUrl,
    ALPHASWARM_ADMIN_ROLE_MAP: `platform-admins=admin:cluster,platform-viewers=admin:read,acme-admins=admin:org:${up.demo.org_id}`,
    // The console's server forwards the browser's address; rate limits and audit see each client.
    // It talks to the API from a loopback address of its own, so only it is believed: anything
    // else on this machine connects from 127.0.0.1 and cannot pose as a browser elsewhere.
    ALPHASWARM_ADMIN_TRUSTED_PROXIES: CONSOLE_SOURCE_ADDRESS,
    HOME: dir,
  });
  const store = openStore(env.dbPath);
  const keyring = Keyring.fromEnv(key);
  const logger = createLogger('info', pino.destination({ dest: join(dir, 'server.log'), sync: false }));
  const rt = createRuntime({ env, store, keyring, ephemeralKey: false, logger, upstreams: up.upstreams });
  await seedAttentionOrgs(rt, up);
  const server = await listen(rt);
  const sweeper = startHealthSweeper(rt);
  warmCloudSdks(logger);
  const alerts = startAlertDispatcher(rt, { everyMs: 2_000 });

  const admins: SandboxAdmin[] = [];
  for (let i = 1; i <= Math.max(1, Math.min(16, Number(values.admins) || 1)); i++) {
    const password = randomBytes(12).toString('base64url');
    const enrolment = await createAdminUser(store.db, keyring, {
      username: i === 1 ? 'admin' : `admin-${i}`,
      password,
      scopes: ['admin:cluster'],
      now: new Date(),
      scryptN: env.ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N,
    });
    admins.push({ username: enrolment.username, password, totp_secret: enrolment.secret, otpauth_uri: enrolment.uri });
  }
  const [admin] = admins as [SandboxAdmin, ...SandboxAdmin[]];

  let consoleProcess: ChildProcess | null = null;
  let stopping = false;
  let restarting = false;
  const consoleEntry = join(REPO, 'apps/web/build/index.js');
  // The console keeps its sessions in the API's database, sealed with a key of its own.
  const sessionKey = generateKey();
  const startConsole = async () => {
    const child = spawn(process.execPath, [consoleEntry], {
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: String(consolePort),
        ORIGIN: consoleUrl,
        ALPHASWARM_ADMIN_API_URL: apiUrl,
        ALPHASWARM_CONSOLE_API_SOURCE_ADDRESS: CONSOLE_SOURCE_ADDRESS,
        ALPHASWARM_ENV: 'sandbox',
        ALPHASWARM_ADMIN_DB_PATH: env.dbPath,
        ALPHASWARM_CONSOLE_SESSION_KEY: sessionKey,
        ALPHASWARM_CONSOLE_OIDC_ISSUER: idp.issuer,
        ALPHASWARM_CONSOLE_OIDC_CLIENT_ID: SSO_CLIENT_ID,
        ALPHASWARM_CONSOLE_OIDC_CLIENT_SECRET: ssoSecret,
        ALPHASWARM_CONSOLE_OIDC_NAME: 'Demo IdP',
        // Every console request body (form actions, the store import upload) stops here.
        BODY_SIZE_LIMIT: '1M',
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Read to the end (its request logs go to stderr); only the "Listening on" line matters.
    child.stdout?.resume();
    consoleProcess = child;
    child.on('exit', (code) => {
      if (!stopping && !restarting) {
        process.stderr.write(`the console exited unexpectedly (code ${code}); stopping\n`);
        void stop();
      }
    });
    await waitFor(`${consoleUrl}/login`, 30_000, child);
  };
  if (!values['no-console']) {
    if (!existsSync(consoleEntry)) {
      throw new Error(
        'the console is not built: run `pnpm --filter @alphaswarm/web build` (scripts/sandbox.sh does it)',
      );
    }
    await startConsole();
  }
  /** SIGHUP restarts the console (sessions are in the database: nobody is signed out); says so on stdout. */
  const restartConsole = async () => {
    if (restarting || stopping || !consoleProcess) return;
    restarting = true;
    const old = consoleProcess;
    const exited = new Promise((r) => old.once('exit', r));
    old.kill('SIGTERM');
    await exited;
    await startConsole();
    restarting = false;
    process.stdout.write('CONSOLE RESTARTED\n');
  };

  const manifest: SandboxManifest = {
    console_url: values['no-console'] ? null : consoleUrl,
    api_url: apiUrl,
    admin,
    admins,
    demo: up.demo,
    alerts_url: receiver.url,
    sso: {
      issuer: idp.issuer,
      users: ssoUsers.map(({ username, password, groups, mfa, role }) => ({ username, password, groups, mfa, role })),
    },
  };
  writeFileSync(join(dir, 'sandbox.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });

  const qr = await QRCode.toString(admin.otpauth_uri, { type: 'terminal', small: true });
  const d = up.demo;
  const out = [
    '',
    '  ╭─ alphaswarm-admin SANDBOX ── everything below is fake and local; nothing leaves this machine ─',
    `  │ Console    ${manifest.console_url ?? '(not started: --no-console)'}`,
    `  │ API        ${apiUrl}   (tRPC ${apiUrl}/trpc · REST ${apiUrl}/admin/accounts/<org>/integrations)`,
    `  │ Sign in    username: admin   password: ${admin.password}`,
    `  │ TOTP       secret: ${admin.totp_secret}   (enrol the QR below, or: bash scripts/totp.sh ${admin.totp_secret})`,
    `  │            ${admin.otpauth_uri}`,
    ...admins.slice(1).map((a) => `  │ also       ${a.username}  password ${a.password}  TOTP ${a.totp_secret}`),
    `  │ SSO        "Sign in with Demo IdP" (${idp.issuer}), users:`,
    ...manifest.sso.users.map((u) => `  │            ${u.username.padEnd(15)} password ${u.password}   ${u.role}`),
    '  │',
    `  │ Alerts     ${receiver.url}  (the webhooks this server sent, signature checked; GET it; a Slack endpoint: ${receiver.url}slack)`,
    `  │ Seeded     ${Object.values(SEEDED_ORGS).join(', ')}: healthy, expiring, rejected, needs reconnect`,
    `  │ Demo org   ${d.org_id}  (the cloud fakes trust this org's subjects)`,
    `  │ HuggingFace   token ${d.huggingface.token}  namespace ${d.huggingface.namespace}  (rejected: ${d.huggingface.bad_token})`,
    `  │ Docker Hub    username ${d.docker_hub.username}  PAT ${d.docker_hub.pat}  namespace ${d.docker_hub.namespace}`,
    `  │ AWS           role_arn ${d.cloud_aws.role_arn}`,
    `  │ GCP           provider ${d.cloud_gcp.workload_identity_provider}`,
    `  │               service account ${d.cloud_gcp.service_account_email}  project ${d.cloud_gcp.project_id}`,
    `  │ Azure         tenant ${d.cloud_azure.tenant_id}  client ${d.cloud_azure.client_id}`,
    `  │ Cloudflare    account ${d.cloud_cloudflare.account_id}  token ${d.cloud_cloudflare.api_token}`,
    '  │',
    `  │ Data in ${dir} (wiped at next start) · server log ${join(dir, 'server.log')} · Ctrl-C stops everything`,
    '  ╰───',
    qr,
    `READY ${manifest.console_url ?? apiUrl}`,
    '',
  ];
  process.stdout.write(out.join('\n'));

  async function stop() {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping sandbox…\n');
    consoleProcess?.kill('SIGTERM');
    await sweeper.stop();
    await alerts.stop();
    await server.close();
    await up.close();
    await receiver.close();
    await idp.close();
    await rt.http.close();
    await store.close();
    logger.flush();
    process.exit(0);
  }
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGHUP', () => void restartConsole());
}

main().catch((error) => {
  process.stderr.write(`sandbox: ${(error as Error).message}\n`);
  process.exit(1);
});
