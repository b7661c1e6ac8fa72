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
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO } from '@alphaswarm/server/sandbox-process';
import type { Browser, Page } from '@playwright/test';
import { type StorageState, withOrgPage } from './support/web-page';

const TARGET_KIB = 80;
const RUNS = Number(process.argv[2] ?? 15);
const HISTORY_DAYS = Number(process.env.BENCH_HISTORY_DAYS ?? 90);

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

async function main(): Promise<void> {
  if (!existsSync(join(REPO, 'apps/web/build/index.js'))) {
    throw new Error('build the console first: pnpm --filter @alphaswarm/web build');
  }
  if (!existsSync(join(REPO, 'bench/web-baseline/build/index.js'))) {
    throw new Error('build the baseline first: pnpm --filter @alphaswarm/bench-web-baseline build');
  }
  await withOrgPage(HISTORY_DAYS, async ({ baseline, browser, state, org, orgUrl, seeded }) => {
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
  });
}

main().catch((error) => {
  process.stderr.write(`bench/web: ${(error as Error).message}\n`);
  process.exit(1);
});
