/**
 * The console's org page in headless Debian Chromium on loopback, against the sandbox, as a ratio
 * to the smallest SvelteKit page (bench/web-baseline) built with the same adapter and served the
 * same way (`node build`), loaded alternately in the same run: the time from navigation start
 * until each page is interactive (its root layout's `hydrated` mark), cold (fresh browser
 * context, empty cache). Absolute milliseconds differ 2–2.5× between machines of this kind; the
 * ratio does not. Also the JavaScript the org page ships (gzip -9 of every script it loads).
 * Every link of the org page carries 90 days of hourly health history (BENCH_HISTORY_DAYS), a
 * twentieth of it failed, as the sweep would have left it; the page renders each link's 90-day
 * timeline (a cell per day, from `integrations.timeline`), which is checked once before timing.
 * Prints figures, asserts nothing else.
 *
 *   pnpm --filter @alphaswarm/web build && pnpm --filter @alphaswarm/bench-web-baseline build
 *   pnpm exec tsx bench/web.ts [runs, default 15]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openStore } from '@alphaswarm/db';
import { CHROMIUM_LAUNCH, REPO, startSandboxProcess } from '@alphaswarm/server/sandbox-process';
import { type Browser, type BrowserContext, chromium, type Page } from '@playwright/test';
import { generateSync } from 'otplib';

type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;

const TARGET_KIB = 80;
const RUNS = Number(process.argv[2] ?? 15);
const HISTORY_DAYS = Number(process.env.BENCH_HISTORY_DAYS ?? 90);

/** Hourly probes of every link of the org over `days`, written into the sandbox's database; returns rows written. */
async function seedHistory(path: string, org: string, days: number): Promise<{ links: number; rows: number }> {
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

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** One load of the org page: scripts (url → raw bytes) and ms until hydrated. */
async function load(page: Page, url: string): Promise<{ scripts: Map<string, Buffer>; ms: number; ttfb: number }> {
  const scripts = new Map<string, Buffer>();
  const bodies: Promise<void>[] = [];
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'script') return;
    bodies.push(
      r.body().then(
        (b) => void scripts.set(r.url(), b),
        () => undefined,
      ),
    );
  });
  await page.goto(url);
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached' });
  const [ms, ttfb] = await page.evaluate<[number | null, number | null]>(
    "[performance.getEntriesByName('hydrated')[0]?.startTime ?? null, performance.getEntriesByType('navigation')[0]?.responseStart ?? null]",
  );
  await Promise.all(bodies);
  return { scripts, ms: ms ?? Number.NaN, ttfb: ttfb ?? Number.NaN };
}

/** The day cells of each link card's timeline, read once from a loaded page: the page really draws them. */
async function timelineCells(browser: Browser, state: StorageState, url: string): Promise<number[]> {
  const ctx = await browser.newContext({ storageState: state });
  try {
    const page = await ctx.newPage();
    await page.goto(url);
    await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached' });
    const cells = await page.locator('ol.days').evaluateAll((lists) => lists.map((l) => l.children.length));
    if (cells.length === 0 || cells.some((n) => n < 90)) {
      throw new Error(`the org page drew no 90-day timeline (cells per card: ${cells.join(', ') || 'none'})`);
    }
    return cells;
  } finally {
    await ctx.close();
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
async function startBaseline(): Promise<{ url: string; child: ChildProcess }> {
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

async function main(): Promise<void> {
  if (!existsSync(join(REPO, 'apps/web/build/index.js'))) {
    throw new Error('build the console first: pnpm --filter @alphaswarm/web build');
  }
  if (!existsSync(join(REPO, 'bench/web-baseline/build/index.js'))) {
    throw new Error('build the baseline first: pnpm --filter @alphaswarm/bench-web-baseline build');
  }
  const baseline = await startBaseline();
  const sandbox = await startSandboxProcess();
  const m = sandbox.manifest;
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  try {
    // Sign in and connect Hugging Face once, so the org page shows a real link.
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
    const seeded = await seedHistory(join(dirname(sandbox.manifestPath), 'admin.db'), org, HISTORY_DAYS);

    const orgUrl = `${m.console_url}/orgs/${org}`;
    const cells = await timelineCells(browser, state, orgUrl);
    // Alternate the two pages, one cold load each per run: both see the same machine at the same time.
    const cold: number[] = [];
    const base: number[] = [];
    const ratios: number[] = [];
    let scripts = new Map<string, Buffer>();
    for (let i = 0; i < RUNS; i++) {
      const ctx = await browser.newContext({ storageState: state });
      const r = await load(await ctx.newPage(), orgUrl);
      await ctx.close();
      const plain = await browser.newContext();
      const b = await load(await plain.newPage(), baseline.url);
      await plain.close();
      cold.push(r.ms);
      base.push(b.ms);
      ratios.push(r.ms / b.ms);
      scripts = r.scripts;
    }

    const raw = [...scripts.values()].reduce((a, b) => a + b.length, 0);
    const gz = [...scripts.values()].reduce((a, b) => a + gzipSync(b, { level: 9 }).length, 0);
    const kib = gz / 1024;
    process.stdout.write(
      [
        `console org page (/orgs/${org}) vs the smallest SvelteKit page, same adapter, headless Chromium on loopback, ${RUNS} cold loads each`,
        `  health history      ${HISTORY_DAYS} days hourly for each of the page's ${seeded.links} link(s): ${seeded.rows} rows`,
        `  timeline            ${cells.length} link card(s), day cells each: ${cells.join(', ')}`,
        `  interactive, ratio   median ${percentile(ratios, 50).toFixed(2)}× the baseline page (p90 ${percentile(ratios, 90).toFixed(2)}×)`,
        `  interactive, ms      org page median ${percentile(cold, 50).toFixed(0)} ms, baseline median ${percentile(base, 50).toFixed(0)} ms (this machine, this run)`,
        `  JavaScript shipped   ${kib.toFixed(1)} KiB gzip (${(raw / 1024).toFixed(1)} KiB raw, ${scripts.size} files)   target ≤ ${TARGET_KIB} KiB: ${kib <= TARGET_KIB ? 'within target' : 'OVER TARGET'}`,
        '',
      ].join('\n'),
    );
  } finally {
    await browser.close();
    await sandbox.stop();
    baseline.child.kill();
  }
}

main().catch((error) => {
  process.stderr.write(`bench/web: ${(error as Error).message}\n`);
  process.exit(1);
});
