import { describe, expect, it } from 'vitest';
import { AddressWindow } from './limits';

/* How many sessions an address may have the console store before anyone signs in, and for how long. */

function clocked(max: number, windowMs: number, maxAddresses?: number) {
  let now = 1_000_000;
  const window = new AddressWindow(max, windowMs, () => now, maxAddresses);
  return { window, advance: (ms: number) => (now += ms) };
}

describe('AddressWindow', () => {
  it('lets max attempts through per address within the window, then says how long to wait', () => {
    const { window, advance } = clocked(3, 60_000);
    expect(window.take('a')).toBeNull();
    advance(10_000);
    expect(window.take('a')).toBeNull();
    advance(10_000);
    expect(window.take('a')).toBeNull();
    // The first attempt leaves the window 40 s from now.
    expect(window.take('a')).toBe(40);
    // Another address has a window of its own.
    expect(window.take('b')).toBeNull();
    advance(39_000);
    expect(window.take('a')).toBe(1);
    advance(1_000);
    // The first attempt has left: one more goes through, the next waits for the second to leave.
    expect(window.take('a')).toBeNull();
    expect(window.take('a')).toBe(10);
  });

  it('a refused attempt does not count, so waiting the time it names is enough', () => {
    const { window, advance } = clocked(1, 10_000);
    expect(window.take('a')).toBeNull();
    for (let i = 0; i < 5; i++) expect(window.take('a')).toBe(10);
    advance(10_000);
    expect(window.take('a')).toBeNull();
  });

  it('remembers a bounded number of addresses, forgetting the one seen longest ago', () => {
    const { window } = clocked(1, 60_000, 2);
    window.take('a');
    window.take('b');
    // Refused, a is seen again: b is now the one seen longest ago, and a third address pushes it out.
    expect(window.take('a')).toBe(60);
    window.take('c');
    expect(window.take('a')).toBe(60);
    expect(window.take('b')).toBeNull();
  });
});
