/**
 * The console's org page in headless Debian Chromium on loopback, against the sandbox, as a ratio
 * to the smallest SvelteKit page (bench/web-baseline) built with the same adapter and served the
 * same way (`node build`), loaded alternately in the same run: the time from navigation start
 * until each page is interactive (its root layout's `hydrated` mark), cold (fresh browser
 * context, empty cache). Absolute milliseconds differ 2–2.5× between machines of this kind; the
 * ratio does not. Also the JavaScript the org page ships (gzip -9 of every script it loads).
 * Prints figures, asserts nothing.
 *
 *   pnpm --filter @alphaswarm/web build && pnpm --filter @alphaswarm/bench-web-baseline build
 *   pnpm exec tsx bench/web.ts [runs, default 15]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CHROMIUM_LAUNCH, REPO, startSandboxProcess } from '@alphaswarm/server/sandbox-process';
import { chromium, type Page } from '@playwright/test';
import { generateSync } from 'otplib';

const TARGET_KIB = 80;
const RUNS = Number(process.argv[2] ?? 15);

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

    const orgUrl = `${m.console_url}/orgs/${org}`;
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
