/** RFC 3339 → "2026-05-27 20:00 UTC": absolute, so a server-rendered page never goes stale. */
export function utc(ts: string | null | undefined): string {
  if (!ts) return '—';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
