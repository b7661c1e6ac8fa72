import type { HealthDay, IntegrationStatus } from '@alphaswarm/contracts';

/**
 * A link's day timeline as the org page receives it: compact, because the page's hydration data
 * carries it too. The cells' words are drawn from the counts (`dayCells`), on the server and
 * again in the browser, instead of being sent a second time.
 */
export interface DayTimeline {
  /** "Last 90 days: 86 healthy, 3 degraded, 1 unhealthy" (days by their worst result). */
  summary: string;
  /** The first day, YYYY-MM-DD (UTC). */
  from: string;
  /** Four counts a day (healthy, degraded, unhealthy, needs reconnect), oldest day first; a day without probes is all zeros. */
  counts: number[];
}

/** One day as the page draws it: its worst result (null: no probe that day) and its words. */
export interface DayCell {
  worst: IntegrationStatus | null;
  /** "2026-11-30: 23 healthy, 1 unhealthy": the cell's title and its text for screen readers. */
  label: string;
}

/** Least to most severe (as STATUS_SEVERITY): a day's worst result is the last one it counted. */
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
  const counts: number[] = [];
  const worst: Record<IntegrationStatus, number> = { healthy: 0, degraded: 0, unhealthy: 0, needs_reconnect: 0 };
  let empty = 0;
  let total = 0;
  const end = Date.parse(`${range.to}T00:00:00Z`);
  for (let at = Date.parse(`${range.from}T00:00:00Z`); at <= end; at += DAY_MS) {
    total += 1;
    const day = byDate.get(new Date(at).toISOString().slice(0, 10));
    if (!day) empty += 1;
    else worst[day.worst] += 1;
    counts.push(...ORDER.map((s) => day?.counts[s] ?? 0));
  }
  const byWorst = counted([...ORDER.map((s): [number, string] => [worst[s], WORDS[s]]), [empty, 'without checks']]);
  return { summary: `Last ${total} days: ${byWorst}`, from: range.from, counts };
}

/** The timeline's days, oldest first. */
export function dayCells(t: DayTimeline): DayCell[] {
  const start = Date.parse(`${t.from}T00:00:00Z`);
  const cells: DayCell[] = [];
  for (let i = 0; i * 4 < t.counts.length; i++) {
    const date = new Date(start + i * DAY_MS).toISOString().slice(0, 10);
    const day = ORDER.map((s, k): [number, IntegrationStatus] => [t.counts[i * 4 + k] ?? 0, s]).filter(([n]) => n > 0);
    cells.push(
      day.length === 0
        ? { worst: null, label: `${date}: no checks` }
        : { worst: day.at(-1)?.[1] ?? null, label: `${date}: ${counted(day.map(([n, s]) => [n, WORDS[s]]))}` },
    );
  }
  return cells;
}
