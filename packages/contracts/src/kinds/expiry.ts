/** The one expiry policy: a credential expiring within this many days needs attention (design §3). */
export const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

export type ExpiryState =
  | { state: 'none' }
  | { state: 'valid' }
  | { state: 'expiring'; daysLeft: number }
  | { state: 'expired' };

/**
 * Past its expiry a credential is expired; within EXPIRY_WARNING_DAYS it is expiring, `daysLeft`
 * whole days (0 = within a day); no (or an unreadable) expiry is `none`.
 */
export function expiryState(expiresAt: string | null | undefined, now: Date): ExpiryState {
  const ms = expiresAt ? Date.parse(expiresAt) : Number.NaN;
  if (Number.isNaN(ms)) return { state: 'none' };
  const left = ms - now.getTime();
  if (left <= 0) return { state: 'expired' };
  if (left > EXPIRY_WARNING_DAYS * DAY_MS) return { state: 'valid' };
  return { state: 'expiring', daysLeft: Math.floor(left / DAY_MS) };
}

/** "in 3 days", "in 1 day", "within a day". */
export function inDays(daysLeft: number): string {
  return daysLeft < 1 ? 'within a day' : `in ${daysLeft} day${daysLeft === 1 ? '' : 's'}`;
}
