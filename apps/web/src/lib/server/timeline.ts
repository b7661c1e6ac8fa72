import type { HealthDay, IntegrationStatus } from '@alphaswarm/contracts';

/** One day of a link's timeline as the page draws it: its worst result (null: no probe that day) and its words. */
export interface DayCell {
  worst: IntegrationStatus | null;
  /** "2026-11-30: 23 healthy, 1 unhealthy": the cell's title and its text for screen readers. */
  label: string;
}

export interface DayTimeline {
  /** "Last 90 days: 86 healthy, 3 degraded, 1 unhealthy" (days by their worst result). */
  summary: string;
  /** Oldest first, one per day from `from` to `to`. */
  cells: DayCell[];
}

const ORDER: IntegrationStatus[] = ['healthy', 'degraded', 'unhealthy', 'needs_reconnect'];
const WORDS: Record<IntegrationStatus, string> = {
  healthy: 'healthy',
  degraded: 'degraded',
  unhealthy: 'unhealthy',
  needs_reconnect: 'needs reconnect',
};
const DAY_MS = 86_400_000;

const counted = (parts: [number, string][]) =>
  parts
    .filter(([n]) => n > 0)
    .map(([n, words]) => `${n} ${words}`)
    .join(', ');

/**
 * Every day of the range (`from`, `to`: YYYY-MM-DD, UTC), the API's days placed on it: a day the
 * API left out had no probe and gets a neutral cell, so a gap in the sweep reads as a gap.
 */
export function dayTimeline(range: { from: string; to: string }, days: HealthDay[]): DayTimeline {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const cells: DayCell[] = [];
  const worst: Record<IntegrationStatus, number> = { healthy: 0, degraded: 0, unhealthy: 0, needs_reconnect: 0 };
  let empty = 0;
  const end = Date.parse(`${range.to}T00:00:00Z`);
  for (let at = Date.parse(`${range.from}T00:00:00Z`); at <= end; at += DAY_MS) {
    const date = new Date(at).toISOString().slice(0, 10);
    const day = byDate.get(date);
    if (!day) {
      empty += 1;
      cells.push({ worst: null, label: `${date}: no checks` });
      continue;
    }
    worst[day.worst] += 1;
    cells.push({
      worst: day.worst,
      label: `${date}: ${counted(ORDER.map((s) => [day.counts[s], WORDS[s]]))}`,
    });
  }
  const byWorst = counted([...ORDER.map((s): [number, string] => [worst[s], WORDS[s]]), [empty, 'without checks']]);
  return { summary: `Last ${cells.length} days: ${byWorst}`, cells };
}
