/**
 * What bench/web.ts and bench/web-breakdown.ts share: the baseline page served as the sandbox serves
 * the console, a signed-in browser state with one real link, and the link's health history.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { openStore } from '@alphaswarm/db';
import { CHROMIUM_LAUNCH, REPO, startSandboxProcess } from '@alphaswarm/server/sandbox-process';
import { type Browser, type BrowserContext, chromium } from '@playwright/test';
import { generateSync } from 'otplib';

export type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;
type Manifest = Awaited<ReturnType<typeof startSandboxProcess>>['manifest'];

/** Hourly probes of every link of the org over `days`, written into the sandbox's database; returns rows written. */
export async function seedHistory(path: string, org: string, days: number): Promise<{ links: number; rows: number }> {
  const store = openStore(path);
  try {
    const links = store.sqlite
      .prepare('SELECT credential_key AS key, kind FROM integrations WHERE org_id = ?')
      .all(org) as { key: string; kind: string }[];
    const end = Date.now();
    const hours = days * 24;
    let rows = 0;
    for (const link of links) {
      const batch = Array.from({ length: hours }, (_, h) => {
        const failed = h % 20 === 7;
        return {
          credentialKey: link.key,
          orgId: org,
          kind: link.kind,
          at: new Date(end - (hours - h) * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          source: 'sweep',
          result: failed ? 'unhealthy' : 'healthy',
          latencyMs: 40 + (h % 30),
          errorCode: failed ? 'upstream_unavailable' : null,
          errorMessage: failed ? 'The upstream answered 503 Service Unavailable.' : null,
          expiresAt: null,
        };
      });
      for (let i = 0; i < batch.length; i += 500) {
        const chunk = batch.slice(i, i + 500);
        await store.db.write(({ q, t }) => q.insert(t.healthHistory).values(chunk));
        rows += chunk.length;
      }
    }
    return { links: links.length, rows };
  } finally {
    await store.close();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** The baseline page, served as the sandbox serves the console: `node build` on loopback. */
export async function startBaseline(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(REPO, 'bench/web-baseline/build/index.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ORIGIN: url, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the baseline page did not start');
}

/** Signs in as the sandbox's admin and connects Hugging Face, so the org page shows a real link. */
export async function signedInWithLink(browser: Browser, m: Manifest): Promise<StorageState> {
  const setup = await browser.newContext({ baseURL: m.console_url });
  const page = await setup.newPage();
  await page.goto('/login');
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached' });
  await page.fill('#username', m.admin.username);
  await page.fill('#password', m.admin.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#code', { state: 'visible' });
  await page.fill('#code', generateSync({ secret: m.admin.totp_secret }));
  await page.click('button[type=submit]');
  await page.waitForURL(/\/$/);
  const org = m.demo.org_id;
  await page.goto(`/orgs/${org}/connect/huggingface`);
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached' });
  await page.fill('#token', m.demo.huggingface.token);
  await page.fill('#namespace', m.demo.huggingface.namespace);
  await page.click('form:has(#token) button[type=submit]');
  await page.waitForURL(/#huggingface$/);
  const state = await setup.storageState();
  await setup.close();
  return state;
}

export interface OrgPage {
  baseline: { url: string; child: ChildProcess };
  browser: Browser;
  /** Signed in, with one Hugging Face link on the org. */
  state: StorageState;
  org: string;
  orgUrl: string;
  seeded: { links: number; rows: number };
}

/**
 * The baseline page and the sandbox started, a browser signed in with one link on the demo org and
 * `days` of its health history seeded; `measure` runs against them, and everything stops after.
 */
export async function withOrgPage<T>(days: number, measure: (page: OrgPage) => Promise<T>): Promise<T> {
  const baseline = await startBaseline();
  const sandbox = await startSandboxProcess();
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  try {
    const m = sandbox.manifest;
    const state = await signedInWithLink(browser, m);
    const org = m.demo.org_id;
    const seeded = await seedHistory(join(dirname(sandbox.manifestPath), 'admin.db'), org, days);
    return await measure({ baseline, browser, state, org, orgUrl: `${m.console_url}/orgs/${org}`, seeded });
  } finally {
    await browser.close();
    await sandbox.stop();
    baseline.child.kill();
  }
}
