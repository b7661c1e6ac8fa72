import { probeAndRecord } from '@alphaswarm/api';
import type { IntegrationKind } from '@alphaswarm/contracts';
import { type IntegrationRow, pageLinks } from '@alphaswarm/db';
import { providerFor } from '@alphaswarm/providers';
import type { Runtime } from '../runtime';
import { pruneHistory } from './alerts';

export interface SweepReport {
  checked: number;
  by_status: Record<string, number>;
  failed: number;
  deferred: number;
  /** Health-history rows past their retention, deleted after the probes. */
  pruned: number;
  ms: number;
}

/**
 * Re-check every link with bounded concurrency. Politeness per upstream: when one answers 429,
 * further probes of that upstream wait out its Retry-After, and the throttled link is retried once.
 */
export async function runHealthSweep(
  rt: Runtime,
  opts: { concurrency: number; signal?: AbortSignal; onProgress?: (checked: number) => void },
): Promise<SweepReport> {
  const started = Date.now();
  const report: SweepReport = { checked: 0, by_status: {}, failed: 0, deferred: 0, pruned: 0, ms: 0 };
  const pausedUntil = new Map<string, number>();
  const queue: { row: IntegrationRow; retried: boolean }[] = [];
  let cursor: string | null = null;
  let exhausted = false;

  // One page read at a time: workers that find the queue low share the read in flight.
  let reading: Promise<void> | null = null;
  const refill = async () => {
    while (reading) await reading;
    if (exhausted || queue.length > opts.concurrency) return;
    reading = (async () => {
      const page = await pageLinks(rt.store.db, cursor, Math.max(100, opts.concurrency * 4));
      if (page.length === 0) exhausted = true;
      else cursor = page[page.length - 1]?.credentialKey ?? null;
      for (const row of page) queue.push({ row, retried: false });
    })();
    try {
      await reading;
    } finally {
      reading = null;
    }
  };

  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) return;
      await refill();
      const item = queue.shift();
      if (!item) return;
      const upstream = providerFor(item.row.kind as IntegrationKind).upstream;
      const wait = (pausedUntil.get(upstream) ?? 0) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 60_000)));
      try {
        const outcome = await probeAndRecord(rt, item.row, opts.signal, 'sweep');
        if (outcome.retryAfterSeconds !== undefined) {
          pausedUntil.set(upstream, Date.now() + outcome.retryAfterSeconds * 1000);
          if (!item.retried) {
            report.deferred++;
            queue.push({ row: item.row, retried: true });
            continue;
          }
        }
        report.checked++;
        report.by_status[outcome.row.status] = (report.by_status[outcome.row.status] ?? 0) + 1;
      } catch (error) {
        report.failed++;
        rt.logger.warn(
          { credential_key: item.row.credentialKey, error_name: (error as Error).name },
          'health probe failed',
        );
      }
      opts.onProgress?.(report.checked);
    }
  };

  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  if (!opts.signal?.aborted) {
    try {
      report.pruned = await pruneHistory(rt);
    } catch (error) {
      rt.logger.warn({ error_name: (error as Error).name }, 'health history could not be pruned');
    }
  }
  report.ms = Date.now() - started;
  if (!opts.signal?.aborted) rt.metrics.sweepFinished(report.ms / 1000, rt.now());
  return report;
}

/** Run the sweep every ALPHASWARM_ADMIN_HEALTH_INTERVAL seconds (0 disables), never overlapping. */
export function startHealthSweeper(rt: Runtime): { stop(): Promise<void> } {
  const interval = rt.env.ALPHASWARM_ADMIN_HEALTH_INTERVAL;
  if (interval === 0) return { stop: async () => {} };
  const controller = new AbortController();
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return;
    running = runHealthSweep(rt, { concurrency: rt.env.ALPHASWARM_ADMIN_HEALTH_CONCURRENCY, signal: controller.signal })
      .then((report) => rt.logger.info({ sweep: report }, 'health sweep finished'))
      .catch((error) => rt.logger.error({ error_name: (error as Error).name }, 'health sweep failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, interval * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      controller.abort();
      await running;
    },
  };
}
