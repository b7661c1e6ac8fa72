import { describe, expect, it } from 'vitest';
import { dayCells, dayTimeline } from './timeline';

const counts = (c: Partial<Record<'healthy' | 'degraded' | 'unhealthy' | 'needs_reconnect', number>>) => ({
  healthy: 0,
  degraded: 0,
  unhealthy: 0,
  needs_reconnect: 0,
  ...c,
});

describe('dayTimeline', () => {
  const t = dayTimeline({ from: '2026-10-30', to: '2026-11-02' }, [
    { date: '2026-10-30', worst: 'healthy', counts: counts({ healthy: 24 }) },
    { date: '2026-11-01', worst: 'unhealthy', counts: counts({ healthy: 23, unhealthy: 1 }) },
    { date: '2026-11-02', worst: 'needs_reconnect', counts: counts({ degraded: 2, needs_reconnect: 1 }) },
  ]);

  it('puts every day of the range in order, across a month end, a day without probes as a neutral cell', () => {
    expect(dayCells(t)).toEqual([
      { worst: 'healthy', label: '2026-10-30: 24 healthy' },
      { worst: null, label: '2026-10-31: no checks' },
      { worst: 'unhealthy', label: '2026-11-01: 23 healthy, 1 unhealthy' },
      { worst: 'needs_reconnect', label: '2026-11-02: 2 degraded, 1 needs reconnect' },
    ]);
    expect(t.summary).toBe('Last 4 days: 1 healthy, 1 unhealthy, 1 needs reconnect, 1 without checks');
  });

  it('sends the days as four counts a day, the words left to the page', () => {
    expect(t.counts).toEqual([24, 0, 0, 0, 0, 0, 0, 0, 23, 0, 1, 0, 0, 2, 0, 1]);
    expect(JSON.stringify(t)).not.toContain('2026-10-31');
  });
});
