import { ProviderError } from '@alphaswarm/contracts';
import type { z } from 'zod';

/** A PAT kind's connect input, or invalid_request naming the first field at fault. */
export function parseConnectInput<I>(schema: z.ZodType<I>, raw: unknown, upstream: string): I {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') || undefined;
    throw new ProviderError(
      'invalid_request',
      upstream,
      `Invalid ${upstream} connect input${field ? ` (${field})` : ''}.`,
      field ? { field } : {},
    );
  }
  return parsed.data;
}
