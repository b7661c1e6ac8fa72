/** RFC 3339 UTC with Z and whole seconds, the one timestamp format on the wire and on disk. */
export function isoNow(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
