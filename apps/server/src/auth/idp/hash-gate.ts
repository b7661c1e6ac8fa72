/**
 * Bounds the password hashes one process runs: a few at once (each scrypt run holds 32 MiB and a
 * libuv thread for ~50 ms), a short queue behind them, and at most `perAddress` of the running or
 * queued ones from any one client address. A flood from one address is refused at the door
 * instead of queueing in front of everyone else, and a full queue answers "busy" at once rather
 * than letting waits grow. This is about this process's CPU, so it lives in memory; the attempt
 * limits that must hold across processes are in the database.
 */

export interface HashGateLimits {
  concurrency: number;
  queue: number;
  perAddress: number;
}

export const HASH_GATE_LIMITS: HashGateLimits = { concurrency: 2, queue: 16, perAddress: 2 };

export type Admission = { ok: true; ticket: HashTicket } | { ok: false; reason: 'address_busy' | 'busy' };

export interface HashTicket {
  /** Wait for a slot, run `work`, free the slot. A ticket runs once. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Give the place back without running (the attempt was refused for another reason). */
  cancel(): void;
}

export class HashGate {
  private running = 0;
  /** Admitted and not yet finished: running, waiting, or about to ask for a slot. */
  private inside = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly perKey = new Map<string, number>();
  /** Hashes run since start, and the most that ever waited at once (for operators and tests). */
  readonly stats = { runs: 0, refused: 0, peakWaiting: 0 };

  constructor(readonly limits: HashGateLimits = HASH_GATE_LIMITS) {}

  /** A place for one hash, or a refusal to answer with 429 right away. Synchronous on purpose. */
  admit(address: string): Admission {
    const mine = this.perKey.get(address) ?? 0;
    if (mine >= this.limits.perAddress) {
      this.stats.refused++;
      return { ok: false, reason: 'address_busy' };
    }
    if (this.inside >= this.limits.concurrency + this.limits.queue) {
      this.stats.refused++;
      return { ok: false, reason: 'busy' };
    }
    this.perKey.set(address, mine + 1);
    this.inside++;
    let done = false;
    let started = false;
    const leave = () => {
      if (done) return;
      done = true;
      this.inside--;
      const left = (this.perKey.get(address) ?? 1) - 1;
      if (left <= 0) this.perKey.delete(address);
      else this.perKey.set(address, left);
    };
    return {
      ok: true,
      ticket: {
        run: async <T>(work: () => Promise<T>): Promise<T> => {
          if (done || started) throw new Error('a hash ticket runs once');
          started = true;
          await this.slot();
          this.stats.runs++;
          try {
            return await work();
          } finally {
            this.running--;
            this.waiting.shift()?.();
            leave();
          }
        },
        cancel: leave,
      },
    };
  }

  private slot(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.running++;
        resolve();
      });
      this.stats.peakWaiting = Math.max(this.stats.peakWaiting, this.waiting.length);
    });
  }
}
