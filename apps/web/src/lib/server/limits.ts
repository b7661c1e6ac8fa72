import { error } from '@sveltejs/kit';

/**
 * Requests that cost the console a stored row before anyone has proved who they are are limited
 * per client address, in this replica's memory: leaving for the company's IdP starts a console
 * session (its state, nonce and PKCE verifier) that lives until it is idle for
 * ALPHASWARM_CONSOLE_SESSION_IDLE. Password and passkey sign-ins store a row only once the API has
 * accepted the first factor, and the API limits those attempts itself.
 */
export class AddressWindow {
  readonly #seen = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    /** Addresses remembered at most (the one seen longest ago goes first). */
    private readonly maxAddresses = 10_000,
  ) {}

  /** Count one attempt from `address`: null when it may go ahead, else the seconds until one may. */
  take(address: string): number | null {
    const now = this.now();
    const recent = (this.#seen.get(address) ?? []).filter((at) => at > now - this.windowMs);
    this.#seen.delete(address);
    if (recent.length >= this.max) {
      this.#seen.set(address, recent);
      return Math.max(1, Math.ceil(((recent[0] ?? now) + this.windowMs - now) / 1000));
    }
    recent.push(now);
    this.#seen.set(address, recent);
    if (this.#seen.size > this.maxAddresses) this.#seen.delete(this.#seen.keys().next().value as string);
    return null;
  }
}

/** Sessions stored before a sign-in: 30 per address in 5 minutes (a person needs one or two). */
export const beforeSignIn = new AddressWindow(30, 5 * 60_000);

/** About to store a session for `address` before anyone signed in: a 429 once its window is full. */
export function admitBeforeSignIn(address: string): void {
  const wait = beforeSignIn.take(address);
  if (wait !== null) error(429, `Too many sign-ins from your address; try again in ${wait} s.`);
}
