import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { twoHandles } from '../test/stores';
import type { Store } from './database';
import { getAdminUser, insertAdminUser } from './repo/admin-users';
import { consumeTokenId, revokeRefreshSession, rotateRefreshToken, startRefreshSession } from './repo/idp-tokens';
import {
  addressBlockedFor,
  failAdminAttempt,
  failUnknownNameAttempt,
  pruneSignInLimits,
  refundAddressAttempt,
  refundAdminAttempt,
  refundUnknownNameAttempt,
  reserveAddressAttempt,
  reserveAdminAttempt,
  reserveUnknownNameAttempt,
} from './repo/sign-in';

/** Two stores on one database (two connections, or two pools) stand for two server processes. */
let one: Store;
let two: Store;
let close: () => Promise<void>;
beforeEach(async () => ({ a: one, b: two, close } = await twoHandles()));
afterEach(() => close());

const T0 = new Date('2031-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const RULE = { limit: 20, windowSeconds: 300 };
const LOCK = { maxAttempts: 3, lockSeconds: 900 };

async function attemptsOf(store: Store, address: string): Promise<unknown> {
  const rows = await store.exec(sql`SELECT attempts FROM sign_in_address_limits WHERE address = ${address}`);
  return rows.map((r) => Number(r.attempts));
}

async function unknownName(store: Store): Promise<unknown> {
  const rows = await store.exec(sql`SELECT failed_attempts, locked_until, expires_at FROM sign_in_unknown_users`);
  return rows.map((r) => ({ failed: Number(r.failed_attempts), lockedUntil: r.locked_until, expiresAt: r.expires_at }));
}

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
    expect(await reserveUnknownNameAttempt(one.db, 'mallory', lock, at(5))).toEqual({
      ok: false,
      retryAfterSeconds: 1,
    });
    // An attempt that never ran gives its reservation back, and only its own name's.
    expect((await reserveUnknownNameAttempt(two.db, 'eve', lock, at(5))).ok).toBe(true);
    await refundUnknownNameAttempt(one.db, 'mallory');
    expect((await reserveUnknownNameAttempt(two.db, 'mallory', lock, at(5))).ok).toBe(true);
    expect(await failUnknownNameAttempt(one.db, 'eve', lock, at(5))).toEqual({ locked: false });
    expect(await failUnknownNameAttempt(two.db, 'mallory', lock, at(6))).toEqual({
      locked: true,
      lockedUntil: '2031-03-01T10:15:06Z',
    });
    expect(await failUnknownNameAttempt(one.db, 'mallory', lock, at(6))).toEqual({ locked: false });
    expect(await reserveUnknownNameAttempt(one.db, 'mallory', lock, at(60))).toEqual({
      ok: false,
      retryAfterSeconds: 846,
    });
    // The lock ends at its instant; the name is remembered for a day after its last attempt.
    expect((await reserveUnknownNameAttempt(one.db, 'mallory', lock, at(906))).ok).toBe(true);
    await refundUnknownNameAttempt(two.db, 'eve');
    await refundUnknownNameAttempt(two.db, 'eve');
    const rows = await one.exec(sql`SELECT * FROM sign_in_unknown_users`);
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toMatch(/mallory|eve/);
    for (const row of rows) expect(row.name_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await unknownName(one)).toEqual(
      expect.arrayContaining([
        { failed: 1, lockedUntil: '2031-03-01T10:15:06Z', expiresAt: '2031-03-02T10:15:06Z' },
        { failed: 0, lockedUntil: null, expiresAt: '2031-03-02T10:00:05Z' },
      ]),
    );
    await pruneSignInLimits(two.db, new Date('2031-03-02T10:00:05Z'));
    expect(await unknownName(one)).toEqual([
      { failed: 1, lockedUntil: '2031-03-01T10:15:06Z', expiresAt: '2031-03-02T10:15:06Z' },
    ]);
  });

  it('per address: a refusal can be read without a write, a refund is for its own window and never below zero', async () => {
    expect(await addressBlockedFor(one.db, '192.0.2.9', RULE, at(0))).toBe(0);
    const first = await reserveAddressAttempt(one.db, '192.0.2.9', RULE, at(0));
    expect(first).toEqual({ ok: true, windowStart: '2031-03-01T10:00:00Z' });
    for (let i = 1; i < 19; i++) await reserveAddressAttempt(two.db, '192.0.2.9', RULE, at(i));
    expect(await addressBlockedFor(one.db, '192.0.2.9', RULE, at(20))).toBe(0);
    await reserveAddressAttempt(two.db, '192.0.2.9', RULE, at(20));
    // Full: blocked until the window ends, in whole seconds rounded up.
    expect(await addressBlockedFor(one.db, '192.0.2.9', RULE, new Date(at(40).getTime() + 500))).toBe(260);
    expect(await addressBlockedFor(one.db, '192.0.2.9', RULE, at(300))).toBe(0);

    // A refund names the window it was taken in: one from an earlier window gives nothing back.
    await refundAddressAttempt(one.db, '192.0.2.9', '2031-03-01T09:55:00Z');
    expect(await attemptsOf(one, '192.0.2.9')).toEqual([20]);
    const fresh = await reserveAddressAttempt(one.db, '192.0.2.9', RULE, at(300));
    expect(fresh).toEqual({ ok: true, windowStart: '2031-03-01T10:05:00Z' });
    expect(await attemptsOf(one, '192.0.2.9')).toEqual([1]);
    await refundAddressAttempt(two.db, '192.0.2.9', '2031-03-01T10:05:00Z');
    await refundAddressAttempt(two.db, '192.0.2.9', '2031-03-01T10:05:00Z');
    expect(await attemptsOf(one, '192.0.2.9')).toEqual([0]);
  });

  it('per account: attempts in flight count, a failure at the limit locks and starts over, a right password refunds', async () => {
    for (const username of ['alice', 'bob'])
      await insertAdminUser(
        one.db,
        { username, passwordHash: 'hash', totpSecret: 'totp', scopes: 'admin:cluster' },
        '2031-03-01T09:00:00Z',
      );
    const alice = async () => {
      const row = await getAdminUser(one.db, 'alice');
      return { failedAttempts: row?.failedAttempts, lockedUntil: row?.lockedUntil, updatedAt: row?.updatedAt };
    };
    expect(await reserveAdminAttempt(one.db, 'nobody', LOCK, at(0))).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      const store = i % 2 ? one : two;
      expect(await reserveAdminAttempt(store.db, 'alice', LOCK, at(i))).toEqual({ ok: true });
    }
    // Three in flight: a fourth is refused before the password is checked, and asked to retry soon.
    expect(await reserveAdminAttempt(one.db, 'alice', LOCK, at(3))).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(await alice()).toEqual({ failedAttempts: 3, lockedUntil: null, updatedAt: '2031-03-01T10:00:02Z' });
    expect(await reserveAdminAttempt(two.db, 'bob', LOCK, at(3))).toEqual({ ok: true });

    // A right password gives its attempt back (not below zero for anyone else's).
    await refundAdminAttempt(two.db, 'alice', at(4));
    expect(await alice()).toEqual({ failedAttempts: 2, lockedUntil: null, updatedAt: '2031-03-01T10:00:04Z' });
    expect(await failAdminAttempt(one.db, 'alice', LOCK, at(5))).toEqual({ locked: false });
    expect(await reserveAdminAttempt(one.db, 'alice', LOCK, at(6))).toEqual({ ok: true });

    // The failure that finds the count at the limit locks the account; the count starts over.
    expect(await failAdminAttempt(two.db, 'alice', LOCK, at(7))).toEqual({
      locked: true,
      lockedUntil: '2031-03-01T10:15:07Z',
    });
    expect(await failAdminAttempt(one.db, 'alice', LOCK, at(7))).toEqual({ locked: false });
    expect(await alice()).toEqual({
      failedAttempts: 0,
      lockedUntil: '2031-03-01T10:15:07Z',
      updatedAt: '2031-03-01T10:00:07Z',
    });
    expect((await getAdminUser(one.db, 'bob'))?.failedAttempts).toBe(1);
    expect(await reserveAdminAttempt(one.db, 'alice', LOCK, new Date(at(60).getTime() + 500))).toEqual({
      ok: false,
      retryAfterSeconds: 847,
    });
    expect(await alice()).toMatchObject({ failedAttempts: 0, updatedAt: '2031-03-01T10:00:07Z' });
    // The lock ends at its instant.
    expect(await reserveAdminAttempt(two.db, 'alice', LOCK, at(907))).toEqual({ ok: true });
    await refundAdminAttempt(one.db, 'alice', at(908));
    await refundAdminAttempt(one.db, 'alice', at(909));
    expect(await alice()).toEqual({
      failedAttempts: 0,
      lockedUntil: '2031-03-01T10:15:07Z',
      updatedAt: '2031-03-01T10:15:08Z',
    });
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
