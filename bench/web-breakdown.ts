/**
 * Where the org page's time to interactive goes, next to the baseline page's: bench/web.ts's
 * setup (sandbox, signed-in state, 90 days of hourly history per link), then `runs` cold loads of
 * each page with a Chromium trace, the median of each figure printed; the org page's server time
 * also split by the console's Server-Timing header (session lookup, API batch, load and render).
 *
 *   pnpm exec tsx bench/web-breakdown.ts [runs, default 5]
 */
import { writeFileSync } from 'node:fs';
import type { Browser } from '@playwright/test';
import { type StorageState, withOrgPage } from './support/web-page';

const RUNS = Number(process.argv[2] ?? 5);

interface InPage {
  ttfb: number;
  responseEnd: number;
  domInteractive: number;
  dcl: number;
  hydrated: number;
  scripts: { name: string; start: number; end: number; initiator: string }[];
  nodes: number;
  htmlBytes: number;
}

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { data?: Record<string, unknown>; name?: string; frame?: string };
}

type Figures = Record<string, number>;

/** One cold load with a trace: named figures in ms, plus the page's script waterfall. */
async function traced(browser: Browser, state: StorageState | undefined, url: string) {
  const ctx = await browser.newContext(state ? { storageState: state } : {});
  const page = await ctx.newPage();
  await browser.startTracing(page, {
    categories: [
      'devtools.timeline',
      'blink.user_timing',
      'v8.execute',
      'disabled-by-default-devtools.timeline',
      'loading',
    ],
  });
  await page.goto(url);
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached' });
  const buffer = await browser.stopTracing();
  // A string, as in bench/web.ts: the page's DOM types are not this script's.
  const inPage = await page.evaluate<InPage>(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource');
    return {
      ttfb: nav.responseStart,
      responseEnd: nav.responseEnd,
      domInteractive: nav.domInteractive,
      dcl: nav.domContentLoadedEventEnd,
      hydrated: performance.getEntriesByName('hydrated')[0]?.startTime ?? Number.NaN,
      scripts: resources
        .filter((r) => /\\.js$/.test(r.name))
        .map((r) => ({ name: r.name.replace(/^.*\\/immutable\\//, ''), start: r.startTime, end: r.responseEnd, initiator: r.initiatorType })),
      nodes: document.getElementsByTagName('*').length,
      htmlBytes: nav.transferSize,
    };
  })()`);
  await ctx.close();
  const events = (JSON.parse(buffer.toString()) as { traceEvents: TraceEvent[] }).traceEvents;
  const navStart = events.find((e) => e.name === 'navigationStart' && e.cat.includes('blink.user_timing'));
  const mark = events.find((e) => e.name === 'hydrated' && e.cat.includes('blink.user_timing'));
  const renderer = navStart?.pid;
  const main = events.find(
    (e) => e.name === 'thread_name' && e.pid === renderer && e.args?.name === 'CrRendererMain',
  )?.tid;
  const t0 = navStart?.ts ?? 0;
  const t1 = mark?.ts ?? Number.POSITIVE_INFINITY;
  const sum: Figures = {};
  for (const e of events) {
    if (e.pid !== renderer || e.tid !== main || e.ph !== 'X' || e.ts < t0 || e.ts > t1) continue;
    sum[e.name] = (sum[e.name] ?? 0) + (e.dur ?? 0) / 1000;
  }
  const pick = (name: string) => sum[name] ?? 0;
  // The main thread's tasks over 5 ms, each with its three longest inner events.
  const mainX = events.filter((e) => e.pid === renderer && e.tid === main && e.ph === 'X' && e.ts >= t0 && e.ts <= t1);
  const tasks = mainX
    .filter((e) => e.name === 'RunTask' && (e.dur ?? 0) > 5000)
    .map((task) => {
      const inner = mainX
        .filter((e) => e !== task && e.ts >= task.ts && e.ts + (e.dur ?? 0) <= task.ts + (task.dur ?? 0))
        .sort((a, b) => (b.dur ?? 0) - (a.dur ?? 0))
        .slice(0, 4)
        .map(
          (e) =>
            `${e.name}${e.args?.data?.url ? `(${String(e.args.data.url).replace(/^.*\//, '')})` : ''} ${((e.dur ?? 0) / 1000).toFixed(0)}`,
        );
      return `${((task.ts - t0) / 1000).toFixed(0).padStart(6)} +${((task.dur ?? 0) / 1000).toFixed(0).padStart(4)}  ${inner.join(', ')}`;
    });
  const layouts = mainX
    .filter((e) => e.name === 'Layout')
    .map((e) => `${((e.ts - t0) / 1000).toFixed(0)}+${((e.dur ?? 0) / 1000).toFixed(0)}`);
  const figures: Figures = {
    'ttfb (responseStart)': inPage.ttfb,
    'html done (responseEnd)': inPage.responseEnd,
    domInteractive: inPage.domInteractive,
    'DOMContentLoaded end': inPage.dcl,
    'last script responseEnd': Math.max(0, ...inPage.scripts.map((s) => s.end)),
    'hydrated mark': inPage.hydrated,
    'main thread busy (RunTask)': pick('RunTask'),
    ParseHTML: pick('ParseHTML'),
    'compile (v8.compileModule+compile)': pick('v8.compileModule') + pick('v8.compile') + pick('V8.CompileCode'),
    'evaluate (v8.evaluateModule+EvaluateScript)': pick('v8.evaluateModule') + pick('EvaluateScript'),
    FunctionCall: pick('FunctionCall'),
    RunMicrotasks: pick('RunMicrotasks') + pick('V8.RunMicrotasks'),
    'style (UpdateLayoutTree)': pick('UpdateLayoutTree'),
    ParseAuthorStyleSheet: pick('ParseAuthorStyleSheet'),
    Layout: pick('Layout'),
    'Paint+PrePaint+Layerize': pick('Paint') + pick('PrePaint') + pick('Layerize'),
    'GC (MinorGC+MajorGC)': pick('MinorGC') + pick('MajorGC') + pick('V8.GC_SCAVENGER'),
    'DOM nodes': inPage.nodes,
    scripts: inPage.scripts.length,
    'HTML transfer bytes': inPage.htmlBytes,
  };
  return { figures, scripts: inPage.scripts, top: sum, tasks, layouts };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function main() {
  await withOrgPage(90, async ({ baseline, browser, state, orgUrl }) => {
    const cookie = state.cookies.map((c) => `${c.name}=${c.value}`).join('; ');

    // Server time alone: the HTML fetched by node, no browser (org page vs baseline page).
    const serverOrg: number[] = [];
    const serverBase: number[] = [];
    // The console's own split of that time (its Server-Timing header): session lookup, API batch, load and render.
    const serverParts = new Map<string, number[]>();
    for (let i = 0; i < RUNS * 2; i++) {
      let t = performance.now();
      const r = await fetch(orgUrl, { headers: { cookie } });
      const html = await r.text();
      if (i === 0 && process.env.BENCH_HTML) writeFileSync(process.env.BENCH_HTML, html);
      serverOrg.push(performance.now() - t);
      for (const [, name, dur] of (r.headers.get('server-timing') ?? '').matchAll(/(\w+);dur=([\d.]+)/g)) {
        serverParts.set(`${name}`, [...(serverParts.get(`${name}`) ?? []), Number(dur)]);
      }
      t = performance.now();
      await (await fetch(baseline.url)).text();
      serverBase.push(performance.now() - t);
    }

    const org_: Figures[] = [];
    const base_: Figures[] = [];
    let lastScripts: { name: string; start: number; end: number; initiator: string }[] = [];
    let lastTop: Figures = {};
    let lastTasks: string[] = [];
    let baseTasks: string[] = [];
    let lastLayouts: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const o = await traced(browser, state, orgUrl);
      org_.push(o.figures);
      lastScripts = o.scripts;
      lastTop = o.top;
      lastTasks = o.tasks;
      lastLayouts = o.layouts;
      const b = await traced(browser, undefined, baseline.url);
      base_.push(b.figures);
      baseTasks = b.tasks;
    }
    const lines = [`median of ${RUNS} traced cold loads (ms unless counted), org page vs baseline page`];
    lines.push(
      `  ${'server: HTML by node fetch'.padEnd(46)} ${median(serverOrg).toFixed(1).padStart(8)} ${median(serverBase).toFixed(1).padStart(8)}`,
    );
    for (const [name, ms] of serverParts) {
      lines.push(`  ${`  of which ${name} (Server-Timing)`.padEnd(46)} ${median(ms).toFixed(1).padStart(8)}`);
    }
    for (const key of Object.keys(org_[0] ?? {})) {
      lines.push(
        `  ${key.padEnd(46)} ${median(org_.map((f) => f[key] ?? 0))
          .toFixed(1)
          .padStart(8)} ${median(base_.map((f) => f[key] ?? 0))
          .toFixed(1)
          .padStart(8)}`,
      );
    }
    lines.push('org page scripts (last run): start → end, initiator');
    for (const s of lastScripts.sort((a, b) => a.start - b.start)) {
      lines.push(
        `  ${s.start.toFixed(0).padStart(5)} → ${s.end.toFixed(0).padStart(5)}  ${s.initiator.padEnd(8)} ${s.name}`,
      );
    }
    lines.push('org page main thread, top events by total (last run):');
    for (const [name, ms] of Object.entries(lastTop)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)) {
      lines.push(`  ${ms.toFixed(1).padStart(8)}  ${name}`);
    }
    lines.push('org page main-thread tasks over 5 ms (last run): start +dur, longest inner events', ...lastTasks);
    lines.push(`org page Layout events: ${lastLayouts.join(' ')}`);
    lines.push('baseline main-thread tasks over 5 ms (last run)', ...baseTasks);
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}

main().catch((error) => {
  process.stderr.write(`bench/web-breakdown: ${(error as Error).stack}\n`);
  process.exit(1);
});
