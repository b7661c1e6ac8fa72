import { afterAll, beforeAll, expect, it } from 'vitest';
import { twoHandles } from '../../test/stores';
import type { Store } from '../database';
import {
  claimConsoleRefresh,
  deleteConsoleSessionsOf,
  insertConsoleSession,
  listConsoleSessions,
  pruneConsoleSessions,
  readConsoleSession,
  releaseConsoleRefresh,
  touchConsoleSession,
  updateConsoleSession,
} from './console-sessions';

const t0 = Date.parse('2026-05-27T20:00:00Z');
const at = (ms: number) => new Date(t0 + ms);

let a: Store;
let b: Store;
let close: () => Promise<void>;
// One database for the file (each test uses keys and subjects of its own): a PostgreSQL database costs ~1 s.
// Two handles on one database: two console replicas.
beforeAll(async () => ({ a, b, close } = await twoHandles()));
afterAll(() => close());

const row = (idHash: string, subject: string | null, expiresInMs = 3_600_000) => ({
  idHash,
  subject,
  createdAt: at(0),
  expiresAt: at(expiresInMs),
  address: '198.51.100.7',
  userAgent: 'test',
  data: `sealed-${idHash}`,
});

it('compare-and-set: of two writes from one read, the second is refused; a last-seen write never conflicts', async () => {
  await insertConsoleSession(a.db, row('h1', null));
  const read = await readConsoleSession(b.db, 'h1', at(1));
  expect(read).toMatchObject({ version: 0, data: 'sealed-h1', subject: null });
  await touchConsoleSession(a.db, 'h1', { at: at(2), expiresAt: at(7_200_000), address: null, userAgent: null });
  expect(await updateConsoleSession(a.db, 'h1', 0, { data: 'A', subject: 'alice' })).toBe(1);
  expect(await updateConsoleSession(b.db, 'h1', 0, { data: 'B', subject: 'alice' })).toBeUndefined();
  expect(await updateConsoleSession(b.db, 'h1', 1, { data: 'AB', subject: 'alice' })).toBe(2);
  expect(await readConsoleSession(a.db, 'h1', at(3))).toMatchObject({ version: 2, data: 'AB', subject: 'alice' });
});

it('expiry, listing by subject (without data), sign-out everywhere and prune', async () => {
  await insertConsoleSession(a.db, row('e1', 'carol'));
  await insertConsoleSession(a.db, row('e2', 'carol', 10_000));
  await insertConsoleSession(a.db, row('e3', 'dave'));
  expect(await readConsoleSession(b.db, 'e2', at(10_000))).toBeUndefined();
  const listed = await listConsoleSessions(b.db, 'carol', at(5_000));
  expect(listed.map((r) => r.idHash)).toEqual(['e1', 'e2']);
  expect(listed[0]).not.toHaveProperty('data');
  expect((await listConsoleSessions(b.db, 'carol', at(10_000))).map((r) => r.idHash)).toEqual(['e1']);
  expect(await pruneConsoleSessions(a.db, at(10_000))).toBe(1);
  expect(await deleteConsoleSessionsOf(b.db, 'carol')).toBe(1);
  expect(await readConsoleSession(a.db, 'e1', at(11_000))).toBeUndefined();
  expect(await readConsoleSession(a.db, 'e3', at(11_000))).toBeDefined();
});

it('the refresh lease: one holder at a time, across replicas, until released or lapsed', async () => {
  await insertConsoleSession(a.db, row('l1', 'alice'));
  expect(await claimConsoleRefresh(a.db, 'l1', 'r1', at(0), at(10_000))).toBe(true);
  expect(await claimConsoleRefresh(b.db, 'l1', 'r2', at(1), at(10_001))).toBe(false);
  // Only the holder's release counts.
  await releaseConsoleRefresh(b.db, 'l1', 'r2');
  expect(await claimConsoleRefresh(b.db, 'l1', 'r2', at(2), at(10_002))).toBe(false);
  await releaseConsoleRefresh(a.db, 'l1', 'r1');
  expect(await claimConsoleRefresh(b.db, 'l1', 'r2', at(3), at(10_003))).toBe(true);
  // A holder that died: its lease lapses.
  expect(await claimConsoleRefresh(a.db, 'l1', 'r3', at(10_003), at(20_000))).toBe(true);
  expect(await claimConsoleRefresh(a.db, 'nope', 'r4', at(0), at(1))).toBe(false);
});
