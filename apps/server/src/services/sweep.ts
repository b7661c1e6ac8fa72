import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { probeAndRecord, type VerdictWriter, verdictWriter } from '@alphaswarm/api';
import type { IntegrationKind } from '@alphaswarm/contracts';
import { type IntegrationRow, isoNow, pageLinks, purgeExpiredWizardSessions } from '@alphaswarm/db';
import { providerFor } from '@alphaswarm/providers';
import type { Runtime } from '../runtime';
import { pruneHistory } from './alerts';
import { type KindReach, trackUpstreamOutages } from './outages';

export interface SweepReport {
  checked: number;
  by_status: Record<string, number>;
  failed: number;
  deferred: number;
  /** Health-history rows past their retention, deleted after the probes. */
  pruned: number;
  /** Per kind, probes that reached the upstream and those that could not (outage tracking). */
  reach: Record<string, KindReach>;
  ms: number;
}

/** Wait `ms`, or less if `signal` aborts first; never rejects. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  delay(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });

/** Where a sweep's links come from: keyset pages after `afterKey` (empty when there are no more). */
export type LinkPages = (afterKey: string | null, limit: number) => Promise<IntegrationRow[]>;

export interface ProbeOptions {
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (checked: number) => void;
  sleep?: Sleep;
  /** Every link when unset; a job sweeper's batch passes its own share. */
  pages?: LinkPages;
  /** Once aborted, no further probe starts; those in flight finish (unlike `signal`). */
  stopTaking?: AbortSignal;
  /** Shared by the batches a job sweeper works at once; its own otherwise. */
  writer?: VerdictWriter;
  /** Probe slots shared by the batches a job sweeper works at once: `concurrency` bounds each batch alone. */
  slots?: Slots;
}

/**
 * Probe slots shared by the batches of one replica, the oldest batch served first: a batch that
 * is finishing (fewer probes left than slots) lends the idle slots to the next, instead of the
 * replica waiting for its last probe before it fetches more work.
 */
export class Slots {
  #free: number;
  readonly #waiting: { rank: number; take(): void }[] = [];
  #ranks = 0;

  constructor(size: number) {
    this.#free = size;
  }

  /** A rank for a batch starting now: after every batch started before it. */
  nextRank(): number {
    return this.#ranks++;
  }

  /** Wait for a slot; a lower rank (an older batch) is served first. */
  async acquire(rank: number): Promise<void> {
    if (this.#free > 0 && this.#waiting.length === 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((take) => {
      const at = this.#waiting.findIndex((w) => w.rank > rank);
      this.#waiting.splice(at === -1 ? this.#waiting.length : at, 0, { rank, take });
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next.take();
    else this.#free++;
  }
}

/**
 * Re-check every link with bounded concurrency, then track upstream outages, prune health history
 * past its retention and record the sweep in the metrics. Time is `rt.now`; waits are `opts.sleep`.
 */
export async function runHealthSweep(rt: Runtime, opts: ProbeOptions): Promise<SweepReport> {
  const report = await probeLinks(rt, opts);
  if (!opts.signal?.aborted) {
    // Only a complete sweep speaks for a whole interval.
    await trackUpstreamOutages(rt, report.reach);
    report.pruned = await pruneQuietly(rt);
    rt.metrics.sweepFinished(report.ms / 1000, rt.now());
  }
  return report;
}

/** Health history past its retention goes; a failure is logged, never fatal to the sweep. */
export async function pruneQuietly(rt: Runtime): Promise<number> {
  try {
    return await pruneHistory(rt);
  } catch (error) {
    rt.logger.warn({ error_name: (error as Error).name }, 'health history could not be pruned');
    return 0;
  }
}

/**
 * Probe links with bounded concurrency. Politeness per upstream: when one answers 429, further
 * probes of that upstream wait out its Retry-After, and the throttled link is retried once. An
 * abort ends it promptly, waits included.
 */
export async function probeLinks(rt: Runtime, opts: ProbeOptions): Promise<SweepReport> {
  const wait = opts.sleep ?? sleep;
  const pages = opts.pages ?? ((after, limit) => pageLinks(rt.store.db, after, limit));
  const writer = opts.writer ?? verdictWriter(rt.store.db);
  const rank = opts.slots?.nextRank() ?? 0;
  const clock = () => rt.now().getTime();
  const started = clock();
  const report: SweepReport = { checked: 0, by_status: {}, failed: 0, deferred: 0, pruned: 0, reach: {}, ms: 0 };
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
      const page = await pages(cursor, Math.max(100, opts.concurrency * 4));
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

  /** Verdicts still being committed; a probe's slot is free once its upstream has answered. */
  const recording = new Set<Promise<void>>();
  const record = (item: { row: IntegrationRow; retried: boolean }, probed: (retryAfterSeconds?: number) => void) =>
    probeAndRecord(rt, item.row, opts.signal, 'sweep', { writer, probed }).then(
      (outcome) => {
        if (outcome.reached !== undefined) {
          const tally = report.reach[item.row.kind] ?? { reached: 0, unreachable: 0 };
          report.reach[item.row.kind] = tally;
          if (outcome.reached) tally.reached++;
          else tally.unreachable++;
        }
        if (outcome.retryAfterSeconds !== undefined) {
          if (!item.retried) {
            report.deferred++;
            queue.push({ row: item.row, retried: true });
            return;
          }
        }
        report.checked++;
        report.by_status[outcome.row.status] = (report.by_status[outcome.row.status] ?? 0) + 1;
        opts.onProgress?.(report.checked);
      },
      (error: Error) => {
        // A probe cut short by an abort records nothing and counts as nothing.
        if (opts.signal?.aborted) return;
        report.failed++;
        rt.logger.warn({ credential_key: item.row.credentialKey, error_name: error.name }, 'health probe failed');
        opts.onProgress?.(report.checked);
      },
    );

  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted || opts.stopTaking?.aborted) return;
      await refill();
      const item = queue.shift();
      if (!item) return;
      const upstream = (await providerFor(item.row.kind as IntegrationKind)).upstream;
      const paused = (pausedUntil.get(upstream) ?? 0) - clock();
      if (paused > 0) {
        await wait(Math.min(paused, 60_000), opts.signal);
        if (opts.signal?.aborted) return;
      }
      if (opts.slots) {
        await opts.slots.acquire(rank);
        if (opts.signal?.aborted || opts.stopTaking?.aborted) {
          opts.slots.release();
          return;
        }
      }
      // The slot (and this worker) goes to the next probe as soon as the upstream has answered:
      // held through the group commit, it left the upstream idle for as long as the write took.
      let free!: () => void;
      const answered = new Promise<void>((resolve) => {
        free = resolve;
      });
      const probed = (retryAfterSeconds?: number) => {
        if (retryAfterSeconds !== undefined) pausedUntil.set(upstream, clock() + retryAfterSeconds * 1000);
        free();
      };
      const done: Promise<void> = record(item, probed).finally(() => recording.delete(done));
      recording.add(done);
      await Promise.race([answered, done]);
      opts.slots?.release();
    }
  };

  // The batch (or sweep) ends once every verdict is committed; a throttled link put back in the
  // queue by a late commit gets workers again.
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  while (recording.size > 0) {
    await Promise.all(recording);
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  }
  report.ms = clock() - started;
  return report;
}

/** How often expired onboarding sessions are deleted when link re-checks are off (interval 0). */
export const HOUSEKEEPING_ONLY_INTERVAL_MS = 3600_000;

/**
 * Every ALPHASWARM_ADMIN_HEALTH_INTERVAL seconds, never overlapping: delete expired onboarding
 * sessions (with the secrets they sealed), then re-check every link. With an interval of 0 links
 * are not re-checked, but expired sessions are still deleted hourly. `stop` aborts a sweep in
 * progress and resolves once it has ended.
 */
export function startHealthSweeper(
  rt: Runtime,
  opts: { intervalMs?: number; sleep?: Sleep } = {},
): { stop(): Promise<void> } {
  const checkLinks = rt.env.ALPHASWARM_ADMIN_HEALTH_INTERVAL > 0;
  const intervalMs =
    opts.intervalMs ?? (checkLinks ? rt.env.ALPHASWARM_ADMIN_HEALTH_INTERVAL * 1000 : HOUSEKEEPING_ONLY_INTERVAL_MS);
  const controller = new AbortController();
  // Every probe in flight listens for the abort.
  setMaxListeners(rt.env.ALPHASWARM_ADMIN_HEALTH_CONCURRENCY * 2 + 10, controller.signal);
  let running: Promise<unknown> | null = null;
  const pass = async () => {
    const purged = await purgeExpiredWizardSessions(rt.store.db, isoNow(rt.now()));
    if (purged > 0) rt.logger.info({ purged }, 'expired onboarding sessions deleted');
    if (!checkLinks || controller.signal.aborted) return;
    const report = await runHealthSweep(rt, {
      concurrency: rt.env.ALPHASWARM_ADMIN_HEALTH_CONCURRENCY,
      signal: controller.signal,
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    rt.logger.info({ sweep: report }, 'health sweep finished');
  };
  const tick = () => {
    running ??= pass()
      .catch((error) => rt.logger.error({ error_name: (error as Error).name }, 'health sweep failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      controller.abort();
      await running;
    },
  };
}
