/** A failed API call as pages see it (built on the server by $lib/server/errors). */
export interface Failure {
  code: string;
  message: string;
  field: string | null;
  upstream: string | null;
  status: number;
}

/** Attributes for an input that a failure may concern. */
export function invalid(failure: Failure | null | undefined, field: string, errorId: string) {
  return failure?.field === field ? { 'aria-invalid': 'true' as const, 'aria-describedby': errorId } : {};
}
