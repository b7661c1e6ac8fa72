import { describe, expect, it } from 'vitest';
import { moment, relative } from './format';

const NOW = Date.parse('2026-11-30T12:00:00Z');

describe('relative', () => {
  it('words a moment against the render time, in its largest whole unit', () => {
    expect(relative('2026-11-30T11:59:30Z', NOW)).toBe('just now');
    expect(relative('2026-11-30T12:00:30Z', NOW)).toBe('in under a minute');
    expect(relative('2026-11-30T11:55:00Z', NOW)).toBe('5 minutes ago');
    expect(relative('2026-11-30T09:00:00Z', NOW)).toBe('3 hours ago');
    expect(relative('2026-11-29T12:00:00Z', NOW)).toBe('yesterday');
    expect(relative('2026-12-10T12:00:00Z', NOW)).toBe('in 10 days');
  });

  it('leaves a value that is not a time as it is', () => {
    expect(relative('soon', NOW)).toBe('soon');
  });
});

describe('moment', () => {
  it('carries the instant, its UTC words for the title and its relative words', () => {
    expect(moment('2026-12-10T12:00:00Z', NOW)).toEqual({
      at: '2026-12-10T12:00:00Z',
      utc: '2026-12-10 12:00:00 UTC',
      relative: 'in 10 days',
    });
    expect(moment(null, NOW)).toBeNull();
  });
});
