import { afterEach, beforeEach, expect, it } from 'vitest';
import { twoHandles } from '../../test/stores';
import type { Store } from '../database';
import { insertAdminUser } from './admin-users';
import {
  claimRecoveryCode,
  clearSecondFactors,
  deletePasskey,
  getPasskey,
  insertChallenge,
  insertPasskey,
  listPasskeys,
  recordPasskeyUse,
  recoveryCodesLeft,
  replaceRecoveryCodes,
  takeChallenge,
} from './passkeys';

let a: Store;
let b: Store;
let close: () => Promise<void>;
// Two handles on one database: a ceremony begun on one replica is finished on the other.
beforeEach(async () => ({ a, b, close } = await twoHandles()));
afterEach(() => close());

const NOW = '2026-11-30T10:00:00Z';
const LATER = '2026-11-30T10:10:00Z';

it('passkeys, recovery codes and challenges: single use across replicas, counters guarded, cleared with the user', async () => {
  await insertAdminUser(a.db, { username: 'alice', passwordHash: 'h', totpSecret: 's', scopes: 'admin:cluster' }, NOW);
  const key = {
    id: 'cred-1',
    username: 'alice',
    name: 'YubiKey',
    publicKey: 'pk',
    counter: 3,
    transports: ['usb'],
    deviceType: 'singleDevice',
    backedUp: false,
  };
  expect(await insertPasskey(a.db, key, NOW)).toBe(true);
  // A credential id is registered once, to one admin.
  expect(await insertPasskey(b.db, { ...key, username: 'alice', name: 'again' }, NOW)).toBe(false);
  // Two sign-ins checked against counter 3: only one records its use.
  expect(await recordPasskeyUse(a.db, { id: 'cred-1', previousCounter: 3, counter: 4, backedUp: false }, LATER)).toBe(
    true,
  );
  expect(await recordPasskeyUse(b.db, { id: 'cred-1', previousCounter: 3, counter: 4, backedUp: false }, LATER)).toBe(
    false,
  );
  expect(await getPasskey(b.db, 'cred-1')).toMatchObject({ counter: 4, lastUsedAt: LATER, transports: ['usb'] });
  expect(await deletePasskey(a.db, 'bob', 'cred-1')).toBeUndefined();

  // Challenges: taken once, by whichever replica; an expired one answers nothing; the purpose must match.
  await insertChallenge(
    a.db,
    { id: 'ch-1', challenge: 'c1', purpose: 'sign_in', username: null, expiresAt: LATER },
    NOW,
  );
  expect(await takeChallenge(b.db, 'ch-1', ['register'], NOW)).toBeNull();
  expect(await takeChallenge(b.db, 'ch-1', ['sign_in', 'step_up'], NOW)).toMatchObject({
    challenge: 'c1',
    username: null,
  });
  expect(await takeChallenge(a.db, 'ch-1', ['sign_in', 'step_up'], NOW)).toBeNull();
  await insertChallenge(
    a.db,
    { id: 'ch-2', challenge: 'c2', purpose: 'step_up', username: 'alice', expiresAt: NOW },
    NOW,
  );
  expect(await takeChallenge(a.db, 'ch-2', ['step_up'], LATER)).toBeNull();

  // Recovery codes: each claimed once; a new set replaces the old one.
  await replaceRecoveryCodes(a.db, 'alice', ['h1', 'h2'], NOW);
  expect(await claimRecoveryCode(a.db, 'alice', 'h1', LATER)).toBe(true);
  expect(await claimRecoveryCode(b.db, 'alice', 'h1', LATER)).toBe(false);
  expect(await claimRecoveryCode(b.db, 'bob', 'h2', LATER)).toBe(false);
  expect(await recoveryCodesLeft(b.db, 'alice')).toBe(1);
  await replaceRecoveryCodes(b.db, 'alice', ['h3'], LATER);
  expect(await claimRecoveryCode(a.db, 'alice', 'h2', LATER)).toBe(false);
  expect(await recoveryCodesLeft(a.db, 'alice')).toBe(1);

  await clearSecondFactors(a.db, 'alice');
  expect(await listPasskeys(b.db, 'alice')).toEqual([]);
  expect(await recoveryCodesLeft(b.db, 'alice')).toBe(0);
});
