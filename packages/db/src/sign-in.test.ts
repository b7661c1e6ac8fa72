import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestDatabase, testDatabase } from '../test/stores';
import type { Store } from './database';
import { consumeTokenId, revokeRefreshSession, rotateRefreshToken, startRefreshSession } from './repo/idp-tokens';
import {
  failUnknownNameAttempt,
  pruneSignInLimits,
  refundAddressAttempt,
  reserveAddressAttempt,
  reserveUnknownNameAttempt,
} from './repo/sign-in';

/** Two stores on one database (two connections, or two pools) stand for two server processes. */
let database: TestDatabase;
let one: Store;
let two: Store;
beforeEach(async () => {
  database = await testDatabase();
  one = await database.open();
  two = await database.open();
});
afterEach(async () => {
  await one.close();
  await two.close();
  await database.dispose();
});

const T0 = new Date('2031-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const RULE = { limit: 20, windowSeconds: 300 };

describe('sign-in limits in the database', () => {
  it('per address: 20 attempts per window across processes, refunds, and a new window after', async () => {
    for (let i = 0; i < 20; i++) {
      const store = i % 2 ? one : two;
      expect((await reserveAddressAttempt(store.db, '192.0.2.1', RULE, at(i))).ok).toBe(true);
    }
    expect(await reserveAddressAttempt(one.db, '192.0.2.1', RULE, at(30))).toEqual({
      ok: false,
      retryAfterSeconds: 270,
    });
    expect((await reserveAddressAttempt(two.db, '192.0.2.2', RULE, at(30))).ok).toBe(true);
    // A success gives its attempt back; only for the window it was taken in.
    await refundAddressAttempt(two.db, '192.0.2.1', T0.toISOString().replace('.000', ''));
    expect((await reserveAddressAttempt(one.db, '192.0.2.1', RULE, at(31))).ok).toBe(true);
    expect((await reserveAddressAttempt(one.db, '192.0.2.1', RULE, at(32))).ok).toBe(false);
    const next = await reserveAddressAttempt(two.db, '192.0.2.1', RULE, at(300));
    expect(next).toEqual({ ok: true, windowStart: '2031-03-01T10:05:00Z' });
    await pruneSignInLimits(one.db, at(600));
    expect(await one.exec(sql`SELECT address FROM sign_in_address_limits`)).toEqual([]);
  });

  it('unknown names lock like accounts, across processes, and are stored only as a hash', async () => {
    const lock = { maxAttempts: 5, lockSeconds: 900 };
    for (let i = 0; i < 5; i++) {
      const store = i % 2 ? one : two;
      expect((await reserveUnknownNameAttempt(store.db, 'mallory', lock, at(i))).ok).toBe(true);
    }
    // Five in flight: a sixth is refused before anything is checked.
    expect((await reserveUnknownNameAttempt(one.db, 'mallory', lock, at(5))).ok).toBe(false);
    expect(await failUnknownNameAttempt(two.db, 'mallory', lock, at(6))).toEqual({
      locked: true,
      lockedUntil: '2031-03-01T10:15:06Z',
    });
    expect(await failUnknownNameAttempt(one.db, 'mallory', lock, at(6))).toEqual({ locked: false });
    expect(await reserveUnknownNameAttempt(one.db, 'mallory', lock, at(60))).toEqual({
      ok: false,
      retryAfterSeconds: 846,
    });
    expect((await reserveUnknownNameAttempt(one.db, 'mallory', lock, at(906))).ok).toBe(true);
    const rows = await one.exec(sql`SELECT * FROM sign_in_unknown_users`);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain('mallory');
  });

  it('token state: a single-use id is spent once; a refresh token rotates once; a revoked family rotates nothing', async () => {
    const now = '2031-03-01T10:00:00Z';
    expect(await consumeTokenId(one.db, 'jti-1', '2031-03-01T10:05:00Z', now)).toBe(true);
    expect(await consumeTokenId(two.db, 'jti-1', '2031-03-01T10:05:00Z', now)).toBe(false);

    const expiresAt = '2031-03-01T22:00:00Z';
    await startRefreshSession(one.db, { jti: 'r1', sessionId: 's1', expiresAt, username: 'alice' }, now);
    const next = (jti: string) => ({ jti, sessionId: 's1', expiresAt });
    expect(await rotateRefreshToken(two.db, 'r1', next('r2'), now)).toBe('rotated');
    expect(await rotateRefreshToken(one.db, 'r1', next('r3'), now)).toBe('used');
    expect(await rotateRefreshToken(one.db, 'nope', next('r4'), now)).toBe('unknown');
    expect(await revokeRefreshSession(one.db, 's1', 'sign_out', now)).toBe(true);
    expect(await revokeRefreshSession(two.db, 's1', 'sign_out', now)).toBe(false);
    expect(await rotateRefreshToken(two.db, 'r2', next('r5'), now)).toBe('revoked');
  });
});
