/**
 * The console's org page in headless Debian Chromium on loopback, against the sandbox:
 * JavaScript shipped to the browser (gzip -9 of every script the page loads, KiB) and the time
 * from navigation start until the page is interactive (the root layout's `hydrated` mark).
 * Cold loads (fresh browser context, empty cache) and warm ones. Prints figures, asserts nothing.
 *
 *   pnpm --filter @alphaswarm/web build && pnpm exec tsx bench/web.ts [runs, default 15]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CHROMIUM_LAUNCH, REPO, startSandboxProcess } from '@alphaswarm/server/sandbox-process';
import { chromium, type Page } from '@playwright/test';
import { generateSync } from 'otplib';

const TARGET_KIB = 80;
const TARGET_MS = 500;
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

async function main(): Promise<void> {
  if (!existsSync(join(REPO, 'apps/web/build/index.js'))) {
    throw new Error('build the console first: pnpm --filter @alphaswarm/web build');
  }
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
    const cold: number[] = [];
    const ttfb: number[] = [];
    let scripts = new Map<string, Buffer>();
    for (let i = 0; i < RUNS; i++) {
      const ctx = await browser.newContext({ storageState: state });
      const r = await load(await ctx.newPage(), orgUrl);
      cold.push(r.ms);
      ttfb.push(r.ttfb);
      scripts = r.scripts;
      await ctx.close();
    }
    const ctx = await browser.newContext({ storageState: state });
    const warmPage = await ctx.newPage();
    await load(warmPage, orgUrl);
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) warm.push((await load(warmPage, orgUrl)).ms);
    await ctx.close();

    const raw = [...scripts.values()].reduce((a, b) => a + b.length, 0);
    const gz = [...scripts.values()].reduce((a, b) => a + gzipSync(b, { level: 9 }).length, 0);
    const kib = gz / 1024;
    const med = percentile(cold, 50);
    const verdict = (ok: boolean) => (ok ? 'within target' : 'OVER TARGET');
    process.stdout.write(
      [
        `console org page (/orgs/${org}), headless Chromium on loopback, ${RUNS} runs each`,
        `  JavaScript shipped   ${kib.toFixed(1)} KiB gzip (${(raw / 1024).toFixed(1)} KiB raw, ${scripts.size} files)   target ≤ ${TARGET_KIB} KiB: ${verdict(kib <= TARGET_KIB)}`,
        `  interactive, cold    median ${med.toFixed(0)} ms  p90 ${percentile(cold, 90).toFixed(0)} ms  max ${Math.max(...cold).toFixed(0)} ms   target ≤ ${TARGET_MS} ms: ${verdict(med <= TARGET_MS)}`,
        `  server answer, cold  median ${percentile(ttfb, 50).toFixed(0)} ms (first byte of the HTML, included above)`,
        `  interactive, warm    median ${percentile(warm, 50).toFixed(0)} ms  p90 ${percentile(warm, 90).toFixed(0)} ms  max ${Math.max(...warm).toFixed(0)} ms`,
        '',
      ].join('\n'),
    );
  } finally {
    await browser.close();
    await sandbox.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`bench/web: ${(error as Error).message}\n`);
  process.exit(1);
});
