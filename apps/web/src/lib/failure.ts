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

/**
 * A failure's message as shown beside its input: the input already names the field, so a leading
 * `field:` or `params.field.0:` path (the API's generic input wording) is left out.
 */
export function fieldMessage(failure: Failure, field: string): string {
  const path = new RegExp(`^(?:params\\.)?${field.replace(/[^\w]/g, '')}(?:\\.[\\w.]+)?:\\s*`);
  return failure.message
    .split('; ')
    .map((part) => part.replace(path, ''))
    .join('; ');
}
