/** RFC 3339 → "2026-05-27 20:00 UTC": absolute, so a server-rendered page never goes stale. */
export function utc(ts: string | null | undefined): string {
  if (!ts) return '—';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];
const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** RFC 3339 → "in 60 days" / "5 minutes ago" against `now` (the page's render time). */
export function relative(ts: string | null | undefined, now: number): string {
  if (!ts) return '—';
  const at = Date.parse(ts);
  if (Number.isNaN(at)) return ts;
  const diff = at - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return relativeFormat.format(Math.trunc(diff / ms), unit);
  }
  return diff >= 0 ? 'in under a minute' : 'just now';
}
