// One replica of the server for bench/health-sweep.ts, in a worker thread of its own: its own
// runtime, pool and pg-boss on the shared PostgreSQL database, as a replica in its own process
// would have. Two replicas in one thread shared one event loop, and their combined CPU per probe
// was more than one thread can spend within the ideal.
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from './ts-worker';

export interface ReplicaConfig {
  databaseUrl: string;
  key: string;
  intervalS: number;
  concurrency: number;
  hfUrl: string;
  /** The replica's clock reads Date.now() + skew until `go` moves it. */
  skew: number;
  /** Links per batch job; the product's default when undefined. */
  batchLinks: number | undefined;
}

export type ReplicaCall = { op: 'go'; skew: number } | { op: 'stop' };

export interface SweepTotals {
  checked: number;
  failed: number;
  batches: number;
}

export type ReplicaEvent =
  | { op: 'ready' }
  /** The finish job's "health sweep finished", at this Date.now(): only the replica that ran it sends this. */
  | { op: 'finished'; at: number; sweep: SweepTotals }
  /** A warning or an error the replica logged. */
  | { op: 'log'; line: string }
  /** CPU of the replica's thread since `go` (null where /proc/thread-self is missing), and its probes. */
  | { op: 'stopped'; cpuMs: number | null; probes: number };

export interface Replica {
  /** From now on the replica's clock reads Date.now() + skew; its CPU is counted from here. */
  go(skew: number): void;
  /** When this replica logs the sweep's end; pending for the replica that did not run the finish job. */
  finished: Promise<Extract<ReplicaEvent, { op: 'finished' }>>;
  stop(): Promise<Extract<ReplicaEvent, { op: 'stopped' }>>;
}

type Waiter = { op: ReplicaEvent['op']; resolve(e: ReplicaEvent): void; reject(error: Error): void };

/** Resolves once the replica's sweeper has started. `onLog` gets its warnings and errors. */
export async function startReplica(config: ReplicaConfig, onLog: (line: string) => void): Promise<Replica> {
  const worker: Worker = startTsWorker(new URL('./replica-worker.ts', import.meta.url), config);
  let waiting: Waiter[] = [];
  let failure: Error | null = null;
  let stopped = false;
  const fail = (error: Error) => {
    failure = error;
    for (const w of waiting) w.reject(error);
    waiting = [];
  };
  worker.on('message', (e: ReplicaEvent) => {
    if (e.op === 'log') return onLog(e.line);
    for (const w of waiting.filter((x) => x.op === e.op)) w.resolve(e);
    waiting = waiting.filter((x) => x.op !== e.op);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (!stopped) fail(new Error(`replica worker exited with code ${code}`));
  });
  const next = <K extends ReplicaEvent['op']>(op: K) =>
    new Promise<Extract<ReplicaEvent, { op: K }>>((resolve, reject) => {
      if (failure) return reject(failure);
      waiting.push({ op, resolve: resolve as (e: ReplicaEvent) => void, reject });
    });
  await next('ready');
  const finished = next('finished');
  // Only one replica ever finishes; the other's wait ends when it stops, unobserved.
  finished.catch(() => undefined);
  return {
    go: (skew) => worker.postMessage({ op: 'go', skew } satisfies ReplicaCall),
    finished,
    async stop() {
      const reply = next('stopped');
      worker.postMessage({ op: 'stop' } satisfies ReplicaCall);
      const r = await reply;
      stopped = true;
      fail(new Error('replica stopped'));
      await worker.terminate();
      return r;
    },
  };
}
