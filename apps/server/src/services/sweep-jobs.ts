import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { verdictWriter } from '@alphaswarm/api';
import { isoNow, linksByKeys, type PostgresStore, pageLinks, purgeExpiredWizardSessions } from '@alphaswarm/db';
import PgBoss from 'pg-boss';
import type { Runtime } from '../runtime';
import { type KindReach, trackUpstreamOutages } from './outages';
import {
  HOUSEKEEPING_ONLY_INTERVAL_MS,
  probeLinks,
  pruneQuietly,
  type Sleep,
  Slots,
  sleep,
  startHealthSweeper,
} from './sweep';

/*
 * The health sweep across replicas, on pg-boss (PostgreSQL's job tables, SKIP LOCKED fetches).
 * Time is cut into slots of one interval. Every replica offers a "plan" job for the current slot
 * under an id derived from the slot, so however many replicas offer it, one exists. Whoever takes
 * it purges expired onboarding sessions and splits the links into "batch" jobs (ids derived from
 * slot and position again, so a re-run of the plan adds nothing); every replica works batches. A
 * batch held by a replica that dies expires and is retried by another, which skips the links
 * already checked in this slot. A "finish" job waits until no batch of its slot is pending, then
 * prunes health history and records the sweep in the metrics: once per slot.
 *
 * Nothing waits for a polling interval on the way: the plan is offered at the slot's start, every
 * replica watches for the slot's batches and starts on them at once, a replica works two batches
 * at a time on one set of probe slots (the second fills the slots the first's last probes leave
 * idle, and the next batch is fetched meanwhile), and the finish job watches the batches itself.
 */

const SCHEMA = 'pgboss';
const PLAN = 'alphaswarm-sweep-plan';
const BATCH = 'alphaswarm-sweep-batch';
const FINISH = 'alphaswarm-sweep-finish';
const QUEUES = [PLAN, BATCH, FINISH];

export interface Sweeper {
  /** Graceful stop: probes in flight are aborted and their batches released to the other replicas. */
  stop(): Promise<void>;
}

export interface JobTuning {
  /** Links per batch job. */
  batchLinks: number;
  /** How long a replica may hold a batch; past it the batch is taken back and retried elsewhere. */
  expirySeconds: number;
  /** How often each replica's workers look for jobs. */
  pollSeconds: number;
  /**
   * How often, at most, each replica looks at the clock for the next slot (it also wakes at the
   * slot's start): a clock that jumps is noticed within this.
   */
  offerEveryMs: number;
}

/** Batches a replica works at once, on one set of probe slots: while one ends, the next begins. */
const BATCHES_AT_ONCE = 2;
/** How often a replica looks for the slot's batches, and the finish job for their end. */
const WATCH_MS = 50;

export interface SweeperOptions {
  intervalMs?: number;
  sleep?: Sleep;
  jobs?: Partial<JobTuning>;
}

/** PostgreSQL: the sweep on pg-boss, shared by every replica. SQLite: the in-process scheduler. */
export async function startSweeper(rt: Runtime, opts: SweeperOptions = {}): Promise<Sweeper> {
  if (rt.store.dialect === 'postgres') return startJobSweeper(rt, opts);
  return startHealthSweeper(rt, opts);
}

/** Tuning that follows the interval: a dead replica's batch is retried well within its slot. */
export function jobTuning(intervalMs: number, concurrency: number, over: Partial<JobTuning> = {}): JobTuning {
  const expirySeconds = over.expirySeconds ?? Math.min(300, Math.max(1, Math.floor(intervalMs / 3000)));
  return {
    batchLinks: over.batchLinks ?? concurrency * 4,
    expirySeconds,
    pollSeconds: over.pollSeconds ?? Math.min(2, Math.max(0.5, expirySeconds / 2)),
    offerEveryMs: over.offerEveryMs ?? Math.min(250, Math.max(50, intervalMs / 8)),
  };
}

function newBoss(store: PostgresStore, opts: { supervise: boolean; maintenanceSeconds?: number }): PgBoss {
  return new PgBoss({
    db: { executeSql: (text, values) => store.query(text, values) },
    schema: SCHEMA,
    migrate: true,
    supervise: opts.supervise,
    schedule: false,
    ...(opts.maintenanceSeconds ? { maintenanceIntervalSeconds: opts.maintenanceSeconds } : {}),
  });
}

/**
 * pg-boss's schema and our queues, created when missing. pg-boss creates its schema under its own
 * advisory lock and treats losing that race as success; creating a queue that exists does nothing.
 * Replicas starting together are therefore safe, and a current database sees no DDL.
 */
export async function installJobQueue(store: PostgresStore): Promise<void> {
  const boss = newBoss(store, { supervise: false });
  boss.on('error', () => undefined);
  await boss.start();
  try {
    await createQueues(boss, store);
  } finally {
    await boss.stop({ graceful: false, close: false });
  }
}

/**
 * Our queues, created when missing. pg-boss's create_queue takes no lock and deadlocks with itself
 * when two replicas create the same queue at once, so creating them is serialised here.
 */
async function createQueues(boss: PgBoss, store: PostgresStore): Promise<void> {
  const existing = new Set((await boss.getQueues()).map((q) => q.name));
  const missing = QUEUES.filter((name) => !existing.has(name));
  if (missing.length === 0) return;
  await store.query(
    [
      'BEGIN',
      `SELECT pg_advisory_xact_lock(hashtext('alphaswarm-admin/job-queues'))`,
      ...missing.map((name) => `SELECT ${SCHEMA}.create_queue('${name}', '{"policy":"standard"}')`),
      'COMMIT',
    ].join(';\n'),
  );
}

/** A job id every replica derives alike, so that offering the same job twice inserts it once. */
export function jobId(name: string): string {
  const h = createHash('sha256').update(`alphaswarm-sweep\0${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface PlanData {
  slot: number;
}
interface BatchData {
  slot: number;
  /** Links checked since (the slot's start) are skipped: a retried batch does only what is left. */
  since: string;
  keys: string[];
}
interface FinishData {
  slot: number;
  started: string;
}
interface BatchOutput {
  /** Links with a verdict of this slot: probed by this run, or by an earlier run of the batch. */
  checked: number;
  failed: number;
  /** Per kind, this run's probes that reached the upstream and those that could not. */
  reach: Record<string, KindReach>;
}

export async function startJobSweeper(rt: Runtime, opts: SweeperOptions = {}): Promise<Sweeper> {
  const store = rt.store as PostgresStore;
  const checkLinks = rt.env.ALPHASWARM_ADMIN_HEALTH_INTERVAL > 0;
  const intervalMs =
    opts.intervalMs ?? (checkLinks ? rt.env.ALPHASWARM_ADMIN_HEALTH_INTERVAL * 1000 : HOUSEKEEPING_ONLY_INTERVAL_MS);
  const concurrency = rt.env.ALPHASWARM_ADMIN_HEALTH_CONCURRENCY;
  const tuning = jobTuning(intervalMs, concurrency, opts.jobs);
  const boss = newBoss(store, {
    supervise: true,
    maintenanceSeconds: Math.min(60, Math.max(1, Math.ceil(tuning.expirySeconds / 2))),
  });
  boss.on('error', (error: Error & { code?: string; queue?: string }) =>
    rt.logger.warn({ error_name: error.name, code: error.code, queue: error.queue }, 'job queue error'),
  );
  await boss.start();
  await createQueues(boss, store);

  const controller = new AbortController();
  setMaxListeners(concurrency * 2 + 10, controller.signal);
  const slotOf = (at: Date) => Math.floor(at.getTime() / intervalMs);
  const work = { pollingIntervalSeconds: tuning.pollSeconds, batchSize: 1 };
  const finishExpirySeconds = Math.max(30, tuning.expirySeconds);
  const slots = new Slots(concurrency);
  const writer = verdictWriter(store.db);

  /** Batches of other slots still pending: the sweep before is still running, and sweeps never overlap. */
  const pendingBatches = async (slot: number, same: boolean): Promise<number> => {
    const { rows } = await store.query(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.job WHERE name = $1 AND state < 'completed' AND (data->>'slot')::bigint ${same ? '=' : '<>'} $2`,
      [BATCH, slot],
    );
    return rows[0].n;
  };

  const batchWorkers: string[] = [];
  const notifyBatchWorkers = () => {
    for (const id of batchWorkers) boss.notifyWorker(id);
  };
  let finishWorker = '';
  const planWorker = await boss.work<PlanData>(PLAN, work, async ([job]) => {
    if (!job) return;
    const { slot } = job.data;
    const purged = await purgeExpiredWizardSessions(store.db, isoNow(rt.now()));
    if (purged > 0) rt.logger.info({ purged }, 'expired onboarding sessions deleted');
    if (!checkLinks) return;
    if ((await pendingBatches(slot, false)) > 0) {
      rt.logger.warn({ slot }, 'health sweep skipped: the previous one is still running');
      return;
    }
    const since = isoNow(new Date(slot * intervalMs));
    const jobs: PgBoss.JobInsert<BatchData>[] = [];
    let keys: string[] = [];
    const flush = () => {
      jobs.push({
        id: jobId(`batch:${slot}:${jobs.length}`),
        name: BATCH,
        data: { slot, since, keys },
        expireInSeconds: tuning.expirySeconds,
        retryLimit: 3,
        retryDelay: 0,
      });
      keys = [];
    };
    for (let cursor: string | null = null; ; ) {
      const page = await pageLinks(store.db, cursor, 1000);
      if (page.length === 0) break;
      for (const row of page) {
        keys.push(row.credentialKey);
        if (keys.length === tuning.batchLinks) flush();
      }
      cursor = page[page.length - 1]?.credentialKey ?? null;
    }
    if (keys.length > 0) flush();
    if (jobs.length > 0) await boss.insert(jobs);
    notifyBatchWorkers();
    const finish: FinishData = { slot, started: isoNow(rt.now()) };
    // Each run watches the batches for a while; retried each second while they are pending, for at most one interval.
    await boss.send(FINISH, finish, {
      id: jobId(`finish:${slot}`),
      retryLimit: Math.max(1, Math.ceil(intervalMs / 1000)),
      retryDelay: 1,
      // Generous: a finish cut off by its expiry would run again and record the sweep twice.
      expireInSeconds: finishExpirySeconds,
    });
    boss.notifyWorker(finishWorker);
  });

  const workBatch = async ([job]: PgBoss.Job<BatchData>[]): Promise<BatchOutput | undefined> => {
    if (!job) return;
    const { since, keys } = job.data;
    const rows = (await linksByKeys(store.db, keys)).filter((row) => !row.lastHealthAt || row.lastHealthAt < since);
    // Past half its expiry a batch starts no more probes and gives the rest back (retried at once,
    // by whichever replica polls first); near the expiry, probes still running are cut, so that
    // no link is ever probed by two replicas at the same time.
    const ms = tuning.expirySeconds * 1000;
    const stopTaking = AbortSignal.any([controller.signal, AbortSignal.timeout(ms / 2)]);
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(Math.max(ms / 2, ms - 200))]);
    // Every probe in flight listens for both.
    setMaxListeners(concurrency * 2 + 10, stopTaking, signal);
    let served = false;
    const report = await probeLinks(rt, {
      concurrency,
      signal,
      stopTaking,
      slots,
      writer,
      pages: async () => {
        if (served) return [];
        served = true;
        return rows;
      },
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    const done = report.checked + report.failed;
    if (done < rows.length) throw new Error('batch cut short; the rest is retried by any replica');
    // pg-boss waits out its polling interval after every job; with batches queued, fetch the next now.
    notifyBatchWorkers();
    return {
      checked: report.checked + keys.length - rows.length,
      failed: report.failed,
      reach: report.reach,
    };
  };
  for (let i = 0; i < BATCHES_AT_ONCE; i++) batchWorkers.push(await boss.work<BatchData>(BATCH, work, workBatch));

  finishWorker = await boss.work<FinishData>(FINISH, work, async ([job]) => {
    if (!job) return;
    const { slot, started } = job.data;
    // Watched for half the job's expiry (past it, the job would be taken back and run twice).
    const watching = AbortSignal.any([controller.signal, AbortSignal.timeout((finishExpirySeconds * 1000) / 2)]);
    while ((await pendingBatches(slot, true)) > 0) {
      if (watching.aborted) throw new Error('batches still pending');
      await sleep(WATCH_MS, watching);
    }
    const pruned = await pruneQuietly(rt);
    const { rows } = await store.query(
      `SELECT output FROM ${SCHEMA}.job WHERE name = $1 AND state = 'completed' AND (data->>'slot')::bigint = $2`,
      [BATCH, slot],
    );
    const totals = { checked: 0, failed: 0 };
    const reach: Record<string, KindReach> = {};
    for (const { output } of rows as { output: Partial<BatchOutput> | null }[]) {
      totals.checked += output?.checked ?? 0;
      totals.failed += output?.failed ?? 0;
      for (const [kind, tally] of Object.entries(output?.reach ?? {})) {
        const sum = reach[kind] ?? { reached: 0, unreachable: 0 };
        reach[kind] = sum;
        sum.reached += tally.reached;
        sum.unreachable += tally.unreachable;
      }
    }
    // The whole slot's probes, across replicas: only a complete sweep speaks for a whole interval.
    await trackUpstreamOutages(rt, reach);
    const ms = rt.now().getTime() - Date.parse(started);
    rt.metrics.sweepFinished(ms / 1000, rt.now());
    rt.logger.info({ sweep: { ...totals, pruned, ms, batches: rows.length } }, 'health sweep finished');
  });

  // Every replica offers each slot's plan; the id makes one. The slot a replica starts in is left
  // to those already running (a fresh cluster sweeps one interval after it starts, as one process did).
  let offered = slotOf(rt.now());
  /** Until this slot's batches exist (whoever plans them), then this replica's workers start on them. */
  const watchForBatches = async (slot: number) => {
    const watching = AbortSignal.any([controller.signal, AbortSignal.timeout(tuning.expirySeconds * 1000)]);
    while (!watching.aborted) {
      const { rows } = await store.query(
        `SELECT EXISTS (SELECT 1 FROM ${SCHEMA}.job WHERE name = $1 AND (data->>'slot')::bigint = $2) AS batches,
                EXISTS (SELECT 1 FROM ${SCHEMA}.job WHERE name = $3 AND id = $4 AND state >= 'completed') AS planned`,
        [BATCH, slot, PLAN, jobId(`plan:${slot}`)],
      );
      if (rows[0].batches) return notifyBatchWorkers();
      // Planned without batches: no links, or the sweep before is still running.
      if (rows[0].planned) return;
      await sleep(WATCH_MS, watching);
    }
  };
  const offer = async (slot: number) => {
    await boss.send(PLAN, { slot } satisfies PlanData, {
      id: jobId(`plan:${slot}`),
      retryLimit: 3,
      retryDelay: 0,
      expireInSeconds: tuning.expirySeconds,
    });
    boss.notifyWorker(planWorker);
    if (checkLinks) await watchForBatches(slot);
  };
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const at = rt.now().getTime();
    const slot = Math.floor(at / intervalMs);
    if (slot > offered) {
      offered = slot;
      offer(slot).catch((error: Error) =>
        rt.logger.warn({ error_name: error.name }, 'health sweep could not be planned'),
      );
    }
    if (controller.signal.aborted) return;
    // Wake at the next slot's start, or sooner to notice a clock that jumped.
    timer = setTimeout(tick, Math.min(tuning.offerEveryMs, (slot + 1) * intervalMs - at));
    timer.unref();
  };
  tick();

  return {
    async stop() {
      controller.abort();
      clearTimeout(timer);
      // Graceful: handlers end (aborted batches fail, and are retried by the other replicas), then
      // whatever is still held is failed back to the queue; the pool is ours and closes later.
      await boss.stop({ graceful: true, close: false, timeout: 5_000 });
    },
  };
}
