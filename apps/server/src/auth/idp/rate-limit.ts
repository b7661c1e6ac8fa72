/**
 * Failed-attempt bookkeeping that does not belong in the database: per client address, and for
 * usernames that do not exist (so an unknown name locks exactly like a real one and a 429 does
 * not tell a guesser which accounts exist). In memory, bounded; one server process.
 */

/** Sliding window of failures per key; `blockedFor` answers seconds to wait, or 0. */
export class SlidingWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  private live(key: string, nowMs: number): number[] {
    const list = (this.hits.get(key) ?? []).filter((t) => t > nowMs - this.windowMs);
    if (list.length === 0) this.hits.delete(key);
    else this.hits.set(key, list);
    return list;
  }

  blockedFor(key: string, now: Date): number {
    const list = this.live(key, now.getTime());
    if (list.length < this.limit) return 0;
    const oldest = list[list.length - this.limit] ?? now.getTime();
    return Math.max(1, Math.ceil((oldest + this.windowMs - now.getTime()) / 1000));
  }

  fail(key: string, now: Date): void {
    const list = this.live(key, now.getTime());
    list.push(now.getTime());
    if (list.length > this.limit * 2) list.splice(0, list.length - this.limit * 2);
    this.hits.delete(key);
    this.hits.set(key, list);
    while (this.hits.size > this.maxKeys) {
      const first = this.hits.keys().next().value;
      if (first === undefined) break;
      this.hits.delete(first);
    }
  }
}

/** The database lockout rule (N consecutive failures → locked for a while) for names with no row. */
export class PhantomLockout {
  private readonly state = new Map<string, { failures: number; lockedUntil: number }>();

  constructor(
    readonly maxAttempts: number,
    readonly lockMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  lockedFor(username: string, now: Date): number {
    const s = this.state.get(username);
    if (!s || s.lockedUntil <= now.getTime()) return 0;
    return Math.ceil((s.lockedUntil - now.getTime()) / 1000);
  }

  fail(username: string, now: Date): void {
    const s = this.state.get(username) ?? { failures: 0, lockedUntil: 0 };
    s.failures += 1;
    if (s.failures >= this.maxAttempts) {
      s.failures = 0;
      s.lockedUntil = now.getTime() + this.lockMs;
    }
    this.state.delete(username);
    this.state.set(username, s);
    while (this.state.size > this.maxKeys) {
      const first = this.state.keys().next().value;
      if (first === undefined) break;
      this.state.delete(first);
    }
  }
}
