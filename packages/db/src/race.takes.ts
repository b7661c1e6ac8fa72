import type { Database as Db } from './database';
import { consumeAdminTotpStep } from './repo/admin-users';
import { reserveAddressAttempt, reserveAdminAttempt } from './repo/sign-in';

export type Race = 'totp' | 'account' | 'address';

const NOW = new Date('2031-03-01T10:00:00Z');
export const ACCOUNT_RULE = { maxAttempts: 5, lockSeconds: 900 };
export const ADDRESS_RULE = { limit: 20, windowSeconds: 300 };

/**
 * One racer of race.test.ts: from `startAt` (epoch ms, shared by both processes) go through
 * `rounds` TOTP steps, or `rounds` accounts (admins `user-1`…) or addresses one after the other,
 * trying to take one more than each allows; what it got, one entry per success.
 */
export async function takeAll(db: Db, race: Race, rounds: number, startAt: number): Promise<string[]> {
  const won: string[] = [];
  while (Date.now() < startAt);
  for (let i = 1; i <= rounds; i++) {
    if (race === 'totp') {
      if (await consumeAdminTotpStep(db, 'user-1', i, NOW.toISOString())) won.push(`step ${i}`);
    } else if (race === 'account') {
      for (let k = 0; k <= ACCOUNT_RULE.maxAttempts; k++)
        if ((await reserveAdminAttempt(db, `user-${i}`, ACCOUNT_RULE, NOW))?.ok) won.push(`user-${i}`);
    } else {
      for (let k = 0; k <= ADDRESS_RULE.limit; k++)
        if ((await reserveAddressAttempt(db, `192.0.2.${i}`, ADDRESS_RULE, NOW)).ok) won.push(`192.0.2.${i}`);
    }
  }
  return won;
}
