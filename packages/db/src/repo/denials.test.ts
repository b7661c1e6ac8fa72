import { afterEach, beforeEach, expect, it } from 'vitest';
import { twoHandles } from '../../test/stores';
import type { Store } from '../database';
import { admitDenial, pruneDenialWindows } from './denials';

let a: Store;
let b: Store;
let close: () => Promise<void>;
// Two handles on one database: two processes (replicas) sharing the bound.
beforeEach(async () => ({ a, b, close } = await twoHandles()));
afterEach(() => close());

it('one budget per address across processes: 5 a minute let through, the rest counted and carried onto the next', async () => {
  const t0 = Date.parse('2026-05-27T20:00:00Z');
  const at = (ms: number) => new Date(t0 + ms);
  // One after the other: two SQLite connections of one process cannot wait on each other's lock.
  const first: (number | null)[] = [];
  for (let i = 0; i < 12; i++) first.push(await admitDenial(i % 2 ? a.db : b.db, '198.51.100.7', 5, at(i)));
  expect(first.filter((r) => r !== null)).toEqual([0, 0, 0, 0, 0]);
  expect(await admitDenial(a.db, '198.51.100.8', 5, at(20))).toBe(0);
  // The next window: the first row written carries the 7 suppressed, then the count starts again.
  expect(await admitDenial(b.db, '198.51.100.7', 5, at(60_000))).toBe(7);
  expect(await admitDenial(a.db, '198.51.100.7', 5, at(60_001))).toBe(0);
  // An ended window is forgotten unless it still owes a count.
  await pruneDenialWindows(a.db, at(130_000));
  expect(await admitDenial(a.db, '198.51.100.8', 5, at(130_001))).toBe(0);
});
