import type { AuditRecord, OutboxClaim, SinkLag } from '@alphaswarm/db';
import type { Sink } from './sinks';

/*
 * Streaming from the durable outbox: the audit table is the log, and each sink has a cursor row
 * (the last seq it took), a lease and a backoff in the same database. The audit row is the outbox
 * entry, so it is committed in the same transaction as the action's audit write and nothing about a
 * sink ever runs on a request's path. One loop per sink claims the lease, sends the next batch in seq
 * order, then moves the cursor: at least once, in order, and a restart (or another replica taking
 * over an expired lease) resends only what was never acknowledged.
 */

export interface Outbox {
  /**
   * Take (or renew) the sink's lease and return the records after its cursor, oldest first; null
   * while another process holds an unexpired lease or a backoff is running.
   */
  claim(sink: string, owner: string, now: Date, leaseMs: number, limit: number): Promise<OutboxClaim | null>;
  /** Move the cursor to `throughSeq` and clear the backoff; false if the lease was lost meanwhile. */
  ack(sink: string, owner: string, throughSeq: number, now: Date): Promise<boolean>;
  /** Record a failed attempt: retry no earlier than `retryAt`. */
  fail(sink: string, owner: string, retryAt: Date, error: string): Promise<void>;
  /** Give the lease up (clean stop), so another process need not wait for it to expire. */
  release(sink: string, owner: string): Promise<void>;
  lag(sink: string, now: Date): Promise<SinkLag>;
}

/** Time as the loop sees it: injected, so tests drive minutes of hanging without waiting. */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        signal?.removeEventListener('abort', done);
        clearTimeout(timer);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export interface DeliveryOptions {
  outbox: Outbox;
  sinks: readonly Sink[];
  /** This process (lease holder). */
  owner: string;
  clock?: Clock;
  batchSize?: number;
  /** A send not finished by then is abandoned and retried: must stay below the lease. */
  sendTimeoutMs?: number;
  leaseMs?: number;
  /** How often an idle loop looks for new records. */
  pollMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  log?: { warn(obj: object, msg: string): void };
}

export interface Delivery {
  lag(): Promise<SinkLag[]>;
  /**
   * Stop every loop: abandon sends in flight (they are resent). The leases are given up unless
   * `release` is false (a process going down hard: another one takes over when they expire).
   * Once: a second call waits for the first.
   */
  stop(opts?: { release?: boolean }): Promise<void>;
}

export function backoffMs(attempts: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(attempts, 20));
}

export function startDelivery(opts: DeliveryOptions): Delivery {
  const clock = opts.clock ?? systemClock;
  const batchSize = opts.batchSize ?? 200;
  const leaseMs = opts.leaseMs ?? 60_000;
  const sendTimeoutMs = Math.min(opts.sendTimeoutMs ?? 15_000, leaseMs / 2);
  const pollMs = opts.pollMs ?? 1_000;
  const { baseMs, maxMs } = opts.backoff ?? { baseMs: 1_000, maxMs: 300_000 };
  const stopping = new AbortController();

  const loop = async (sink: Sink) => {
    while (!stopping.signal.aborted) {
      let wait = pollMs;
      try {
        const claim = await opts.outbox.claim(sink.name, opts.owner, clock.now(), leaseMs, batchSize);
        // Stopped while claiming: a send begun now would outlive the stop (its abort has fired
        // already); the batch stays in the outbox for the next owner.
        if (stopping.signal.aborted) break;
        if (claim && claim.records.length > 0) {
          const error = await sendBounded(sink, claim.records);
          if (stopping.signal.aborted) break;
          if (error === null) {
            await opts.outbox.ack(sink.name, opts.owner, claim.records.at(-1)!.seq, clock.now());
            wait = claim.records.length === batchSize ? 0 : pollMs;
          } else {
            wait = backoffMs(claim.attempts, baseMs, maxMs);
            await opts.outbox.fail(sink.name, opts.owner, new Date(clock.now().getTime() + wait), error);
            opts.log?.warn(
              { sink: sink.name, attempts: claim.attempts + 1, retry_in_ms: wait, error },
              'audit sink delivery failed',
            );
          }
        }
      } catch (error) {
        opts.log?.warn({ sink: sink.name, error: (error as Error).message }, 'audit outbox unavailable');
      }
      // Stopped during the ack or the fail: no sleep, so the stop waits on no clock.
      if (stopping.signal.aborted) break;
      if (wait > 0) await clock.sleep(wait, stopping.signal);
    }
  };

  /** null when the sink took the batch; otherwise why not. Never throws, never outlives the timeout. */
  const sendBounded = async (sink: Sink, records: AuditRecord[]): Promise<string | null> => {
    const abort = new AbortController();
    const onStop = () => abort.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    const timeout = clock.sleep(sendTimeoutMs, abort.signal).then(() => {
      if (!abort.signal.aborted) abort.abort();
      return `timed out after ${sendTimeoutMs} ms`;
    });
    try {
      return await Promise.race([
        sink.send(records, abort.signal).then(
          () => null,
          (error: Error) => error.message,
        ),
        timeout,
      ]);
    } finally {
      stopping.signal.removeEventListener('abort', onStop);
      if (!abort.signal.aborted) abort.abort();
    }
  };

  const loops = opts.sinks.map((sink) => loop(sink));
  let stopped: Promise<void> | null = null;
  const stop = async (release: boolean) => {
    stopping.abort();
    await Promise.all(loops);
    if (release) {
      await Promise.all(opts.sinks.map((s) => opts.outbox.release(s.name, opts.owner).catch(() => undefined)));
    }
    await Promise.all(opts.sinks.map((s) => s.close()));
  };
  return {
    lag: () => Promise.all(opts.sinks.map((s) => opts.outbox.lag(s.name, clock.now()))),
    stop({ release = true } = {}) {
      stopped ??= stop(release);
      return stopped;
    },
  };
}
