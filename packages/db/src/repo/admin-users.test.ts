import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testStore } from '../../test/stores';
import type { Store } from '../database';
import {
  clearAdminLoginFailures,
  consumeAdminTotpStep,
  getAdminUser,
  insertAdminUser,
  listAdminUsers,
  replaceAdminPassword,
  replaceAdminTotpSecret,
  setAdminUserDisabled,
  setTokensValidAfter,
  tokensValidAfter,
} from './admin-users';
import { failAdminAttempt, reserveAdminAttempt } from './sign-in';

/*
 * The embedded IdP's admin accounts: what each change resets, that it touches the named admin
 * only, and that a name nobody holds changes nothing and says so. (The two-process races of the
 * TOTP step claim and the attempt reservation are in src/race.test.ts.)
 */

const NOW = '2026-11-30T10:00:00.000Z';
const LATER = '2026-11-30T10:05:00.000Z';
const LOCKOUT = { maxAttempts: 2, lockSeconds: 900 };

// One database for the file (a PostgreSQL database per test costs a second); each test has its own admins.
let store: Store;
let n = 0;
let A = '';
let B = '';
let C = '';
beforeAll(async () => {
  store = await testStore();
});
afterAll(() => store.close());
beforeEach(async () => {
  n++;
  [A, B, C] = [`alice-${n}`, `bob-${n}`, `carol-${n}`];
  for (const username of [B, A])
    await insertAdminUser(
      store.db,
      { username, passwordHash: `hash-${username}`, totpSecret: `totp-${username}`, scopes: 'admin:cluster' },
      NOW,
    );
});

const user = async (name = A) => {
  const row = await getAdminUser(store.db, name);
  if (!row) throw new Error(`no admin ${name}`);
  return row;
};

/**
 * alice through the sign-in limits' own path: locked after two failures of two allowed, then one
 * more attempt once the lock has run out, so she has both a lock on record and a failure counted.
 */
async function lockAlice() {
  const at = new Date(NOW);
  for (let i = 0; i < 2; i++) await reserveAdminAttempt(store.db, A, LOCKOUT, at);
  expect(await failAdminAttempt(store.db, A, LOCKOUT, at)).toMatchObject({ locked: true });
  await reserveAdminAttempt(store.db, A, LOCKOUT, new Date('2026-11-30T10:20:00.000Z'));
  expect(await user()).toMatchObject({ failedAttempts: 1, lockedUntil: '2026-11-30T10:15:00Z' });
}

describe('admin accounts', () => {
  it('a new admin starts with no failures, no lock, no TOTP step used, not disabled, never signed out', async () => {
    expect(await user()).toEqual({
      username: A,
      passwordHash: `hash-${A}`,
      totpSecret: `totp-${A}`,
      scopes: 'admin:cluster',
      createdAt: NOW,
      updatedAt: NOW,
      disabledAt: null,
      failedAttempts: 0,
      lockedUntil: null,
      lastTotpStep: 0,
      tokensValidAfter: null,
    });
    expect((await listAdminUsers(store.db)).map((u) => u.username).filter((u) => u.endsWith(`-${n}`))).toEqual([A, B]);
    expect(await getAdminUser(store.db, C)).toBeUndefined();
  });

  it('a taken username is refused and the admin who holds it is left as they were', async () => {
    const taken = { username: A, passwordHash: 'other', totpSecret: 'other', scopes: 'admin:read' };
    expect(await insertAdminUser(store.db, taken, LATER)).toBe(false);
    expect(await user()).toMatchObject({ passwordHash: `hash-${A}`, scopes: 'admin:cluster', updatedAt: NOW });
    expect(await insertAdminUser(store.db, { ...taken, username: C }, LATER)).toBe(true);
  });
});

describe('TOTP time steps', () => {
  it('each step is accepted once, and only a later one after it: a code cannot be replayed or go back', async () => {
    expect(await consumeAdminTotpStep(store.db, A, 100, LATER)).toBe(true);
    expect(await user()).toMatchObject({ lastTotpStep: 100, updatedAt: LATER });
    expect(await consumeAdminTotpStep(store.db, A, 100, LATER)).toBe(false);
    expect(await consumeAdminTotpStep(store.db, A, 99, LATER)).toBe(false);
    expect(await consumeAdminTotpStep(store.db, A, 101, LATER)).toBe(true);
    expect((await user()).lastTotpStep).toBe(101);
  });

  it('one admin’s step is theirs alone; a name nobody holds claims nothing', async () => {
    expect(await consumeAdminTotpStep(store.db, A, 100, LATER)).toBe(true);
    expect(await consumeAdminTotpStep(store.db, B, 100, LATER)).toBe(true);
    expect(await consumeAdminTotpStep(store.db, C, 100, LATER)).toBe(false);
    expect(await user(B)).toMatchObject({ lastTotpStep: 100 });
  });

  it('a new TOTP secret starts the steps over and lifts a lockout', async () => {
    await consumeAdminTotpStep(store.db, A, 100, NOW);
    await consumeAdminTotpStep(store.db, B, 100, NOW);
    await lockAlice();
    expect(await replaceAdminTotpSecret(store.db, A, 'totp-new', LATER)).toBe(true);
    expect(await user()).toMatchObject({
      totpSecret: 'totp-new',
      lastTotpStep: 0,
      failedAttempts: 0,
      lockedUntil: null,
      updatedAt: LATER,
    });
    expect(await consumeAdminTotpStep(store.db, A, 1, LATER)).toBe(true);
    expect(await user(B)).toMatchObject({ totpSecret: `totp-${B}`, lastTotpStep: 100 });
    expect(await replaceAdminTotpSecret(store.db, C, 'x', LATER)).toBe(false);
  });
});

describe('failures, locks and disabling', () => {
  it('a complete sign-in clears the failure count and the lock of that admin only', async () => {
    await lockAlice();
    await reserveAdminAttempt(store.db, B, LOCKOUT, new Date(NOW));
    await clearAdminLoginFailures(store.db, A, LATER);
    expect(await user()).toMatchObject({ failedAttempts: 0, lockedUntil: null, updatedAt: LATER });
    expect(await user(B)).toMatchObject({ failedAttempts: 1 });
  });

  it('disabling keeps the failure count and lock; re-enabling clears both', async () => {
    await lockAlice();
    expect(await setAdminUserDisabled(store.db, A, LATER, LATER)).toBe(true);
    expect(await user()).toMatchObject({
      disabledAt: LATER,
      failedAttempts: 1,
      lockedUntil: '2026-11-30T10:15:00Z',
      updatedAt: LATER,
    });
    expect((await user(B)).disabledAt).toBeNull();
    const enabled = '2026-11-30T10:06:00.000Z';
    expect(await setAdminUserDisabled(store.db, A, null, enabled)).toBe(true);
    expect(await user()).toMatchObject({ disabledAt: null, failedAttempts: 0, lockedUntil: null, updatedAt: enabled });
    expect(await setAdminUserDisabled(store.db, C, LATER, LATER)).toBe(false);
    expect(await setAdminUserDisabled(store.db, C, null, LATER)).toBe(false);
  });
});

describe('sign out everywhere and password changes', () => {
  it('records when an admin signed out everywhere, for that admin only', async () => {
    expect(await tokensValidAfter(store.db, A)).toBeNull();
    expect(await setTokensValidAfter(store.db, A, LATER)).toBe(true);
    expect(await tokensValidAfter(store.db, A)).toBe(LATER);
    expect((await user()).updatedAt).toBe(LATER);
    expect(await tokensValidAfter(store.db, B)).toBeNull();
    expect(await setTokensValidAfter(store.db, C, LATER)).toBe(false);
    expect(await tokensValidAfter(store.db, C)).toBeNull();
  });

  it('a new password replaces the hash of that admin only', async () => {
    expect(await replaceAdminPassword(store.db, A, 'hash-new', LATER)).toBe(true);
    expect(await user()).toMatchObject({ passwordHash: 'hash-new', updatedAt: LATER });
    expect((await user(B)).passwordHash).toBe(`hash-${B}`);
    expect(await replaceAdminPassword(store.db, C, 'x', LATER)).toBe(false);
  });
});
