import { type ErrorCode, ProviderError } from '@alphaswarm/contracts';
import type { z } from 'zod';
import { type HttpResponse, retryAfterSeconds } from '../http';
import { clip } from './text';

/*
 * The error translation every provider shares: reading an upstream's error body, and the faults
 * that mean the same everywhere (429 → rate_limited with when to retry, 5xx → upstream_unavailable).
 * What a 401/403/404 means is each upstream's own, in its errors.ts.
 */

/** The upstream's error body read through `schema`; undefined when it is not JSON of that shape. */
export function errorBody<S extends z.ZodType>(res: HttpResponse, schema: S): z.infer<S> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(res.body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `HTTP 503` or `HTTP 503: <the upstream's words, clipped>`. */
export function httpDetail(status: number, text?: string | null): string {
  const said = text ? clip(text) : '';
  return `HTTP ${status}${said ? `: ${said}` : ''}`;
}

export function rateLimited(
  upstream: string,
  what: string,
  details: { status?: number; retryAfterSeconds?: number | undefined },
): ProviderError {
  const retry = details.retryAfterSeconds;
  return new ProviderError(
    'rate_limited',
    upstream,
    `${what}. Try again ${retry !== undefined ? `in ${retry} s` : 'in a minute'}.`,
    {
      ...(details.status !== undefined ? { status: details.status } : {}),
      ...(retry !== undefined ? { retryAfterSeconds: retry } : {}),
    },
  );
}

export function unavailable(upstream: string, what: string, status?: number): ProviderError {
  return new ProviderError(
    'upstream_unavailable',
    upstream,
    `${what}. Try again later.`,
    status !== undefined ? { status } : {},
  );
}

/**
 * 429 and 5xx answers, worded one way for every upstream; null for any other status.
 * `detail` is what to quote (`HTTP 429: …`); `retryAfter` overrides the Retry-After reading.
 */
export function passingFault(
  upstream: string,
  res: HttpResponse,
  now: Date,
  { service = upstream, detail, retryAfter }: { service?: string; detail: string; retryAfter?: number | undefined },
): ProviderError | null {
  if (res.status === 429) {
    return rateLimited(upstream, `${service} is rate-limiting our requests (${detail})`, {
      status: 429,
      retryAfterSeconds: retryAfter ?? retryAfterSeconds(res.headers, now),
    });
  }
  if (res.status >= 500) return unavailable(upstream, `${service} is unavailable (${detail})`, res.status);
  return null;
}

/** An answer that fits none of the upstream's documented cases: most likely a wrong base URL. */
export function unexpectedAnswer(
  upstream: string,
  res: HttpResponse,
  { service = upstream, what, detail, setting }: { service?: string; what: string; detail: string; setting: string },
): ProviderError {
  return new ProviderError(
    'upstream_unavailable',
    upstream,
    `${service} answered ${what} unexpectedly (${detail}). Check the ${setting} configuration.`,
    { status: res.status },
  );
}

/**
 * A stored link's metadata read through its kind's schema. Metadata that no longer parses cannot
 * be repaired here: the error says to reconnect the link (`message`, in the kind's words).
 */
export function storedMetadata<S extends z.ZodType>(
  schema: S,
  metadata: unknown,
  upstream: string,
  message: string,
  code: ErrorCode = 'precondition_failed',
): z.infer<S> {
  const parsed = schema.safeParse(metadata);
  if (!parsed.success) throw new ProviderError(code, upstream, message);
  return parsed.data;
}
