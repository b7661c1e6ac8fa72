import { type ErrorCode, isProviderError } from '@alphaswarm/contracts';
import { isStorageFailure, StoreFileError } from '@alphaswarm/db';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/unstable-core-do-not-import';
import { ZodError } from 'zod';

/** A failure with a stable code, an HTTP status and a message a person can act on. Never a secret. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { headers?: Record<string, string>; upstream?: string; field?: string } = {},
  ) {
    super(message);
  }
  get status(): number {
    return httpStatus(this);
  }
}

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_user_authentication: 401,
  insufficient_scope: 403,
  not_found: 404,
  conflict: 409,
  credential_rejected: 422,
  namespace_denied: 422,
  permission_missing: 422,
  trust_misconfigured: 422,
  upstream_unavailable: 502,
  upstream_timeout: 504,
  audit_unavailable: 503,
  storage_unavailable: 503,
  secret_unreadable: 409,
  precondition_failed: 412,
  rate_limited: 429,
  internal: 500,
};

const TRPC_CODE: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  422: 'UNPROCESSABLE_CONTENT',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

function httpStatus(error: AppError): number {
  return STATUS[error.code];
}

/** The wire code: a timeout is still "upstream_unavailable" to callers, told apart by 504. */
export function wireCode(error: AppError): ErrorCode {
  return error.code === 'upstream_timeout' ? 'upstream_unavailable' : error.code;
}

/** The one boundary where anything thrown becomes an AppError. Raw SDK errors never pass. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isStorageFailure(error)) {
    return new AppError(
      'storage_unavailable',
      'The database could not store the change (disk full or read-only?); nothing was changed. Free space or fix the volume, then retry.',
    );
  }
  if (error instanceof StoreFileError) return new AppError('conflict', error.message);
  if (error instanceof ZodError) return new AppError('invalid_request', formatZod(error));
  if (error instanceof TRPCError) {
    if (error.cause) {
      const inner = toAppError(error.cause);
      if (inner.code !== 'internal') return inner;
    }
    if (error.code === 'BAD_REQUEST' || error.code === 'PARSE_ERROR')
      return new AppError('invalid_request', error.message);
    if (error.code === 'NOT_FOUND') return new AppError('not_found', error.message);
  }
  if (isProviderError(error)) {
    const headers: Record<string, string> = {};
    if (error.details.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.details.retryAfterSeconds);
    return new AppError(error.code, error.message, {
      headers,
      upstream: error.upstream,
      ...(error.details.field ? { field: error.details.field } : {}),
    });
  }
  return new AppError('internal', 'Internal error. The incident was logged with the request id.');
}

export function toTrpcError(error: AppError): TRPCError {
  return new TRPCError({
    code: TRPC_CODE[error.status] ?? 'INTERNAL_SERVER_ERROR',
    message: error.message,
    cause: error,
  });
}

export function formatZod(error: ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
