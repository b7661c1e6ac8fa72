import { utc } from '$lib/format';

/*
 * Relative times are worded here, on the server, and reach the page as text: building an
 * Intl.RelativeTimeFormat costs a fresh browser renderer 100 ms and more (it loads its ICU data),
 * which every page using one paid while it hydrated. Node builds this one once per process.
 */
const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** RFC 3339 → "in 60 days" / "5 minutes ago" against `now` (the page's render time). */
export function relative(ts: string, now: number): string {
  const at = Date.parse(ts);
  if (Number.isNaN(at)) return ts;
  const diff = at - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return relativeFormat.format(Math.trunc(diff / ms), unit);
  }
  return diff >= 0 ? 'in under a minute' : 'just now';
}

/** A moment as a page shows it: `<time datetime={at} title={utc}>{relative}</time>`. */
export interface Moment {
  at: string;
  utc: string;
  relative: string;
}

export function moment(ts: string, now: number): Moment;
export function moment(ts: string | null | undefined, now: number): Moment | null;
export function moment(ts: string | null | undefined, now: number): Moment | null {
  return ts ? { at: ts, utc: utc(ts), relative: relative(ts, now) } : null;
}
