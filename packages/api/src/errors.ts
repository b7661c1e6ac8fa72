import { type ErrorCode, isProviderError } from '@alphaswarm/contracts';
import { isStorageFailure, StoreFileError } from '@alphaswarm/db';
import { TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
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
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
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
  405: 'METHOD_NOT_SUPPORTED',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_CONTENT',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

/** tRPC's own refusals (wrong method, content type, size, unknown path, bad JSON) in our codes. */
const FROM_TRPC: Partial<Record<TRPC_ERROR_CODE_KEY, ErrorCode>> = {
  PARSE_ERROR: 'invalid_request',
  BAD_REQUEST: 'invalid_request',
  UNAUTHORIZED: 'invalid_token',
  FORBIDDEN: 'insufficient_scope',
  NOT_FOUND: 'not_found',
  METHOD_NOT_SUPPORTED: 'method_not_allowed',
  CONFLICT: 'conflict',
  PRECONDITION_FAILED: 'precondition_failed',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  TOO_MANY_REQUESTS: 'rate_limited',
};

/** Said instead of a message written for developers (JSON.parse's, V8's). */
const PLAIN_MESSAGE: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'The request input is not valid JSON, or could not be read.',
};

function httpStatus(error: AppError): number {
  return STATUS[error.code];
}

/** The tRPC code matching an AppError's HTTP status, so JSON-RPC `code`, `data.code` and `httpStatus` agree. */
export function trpcCode(error: AppError): TRPC_ERROR_CODE_KEY {
  return TRPC_CODE[error.status] ?? 'INTERNAL_SERVER_ERROR';
}

/** The body tRPC clients expect for an error answered before tRPC sees the request. */
export function trpcErrorBody(error: AppError, path: string | null) {
  const code = trpcCode(error);
  return {
    error: {
      message: error.message,
      code: TRPC_ERROR_CODES_BY_KEY[code],
      data: {
        code,
        httpStatus: error.status,
        path,
        app_code: wireCode(error),
        upstream: error.extra.upstream ?? null,
        field: error.extra.field ?? null,
      },
    },
  };
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
  if (error instanceof ZodError) {
    // The field an input error concerns, for forms that show it beside the input.
    const field = error.issues[0]?.path[0];
    return new AppError('invalid_request', formatZod(error), field === undefined ? {} : { field: String(field) });
  }
  if (error instanceof TRPCError) {
    if (error.cause) {
      const inner = toAppError(error.cause);
      if (inner.code !== 'internal') return inner;
    }
    const code = FROM_TRPC[error.code];
    if (code) {
      // A cause tRPC did not raise itself (JSON.parse's SyntaxError, a RangeError) speaks to developers.
      const foreign = error.cause !== undefined && !(error.cause instanceof TRPCError);
      return new AppError(
        code,
        foreign ? (PLAIN_MESSAGE[code] ?? `The request was refused (${code}).`) : error.message,
      );
    }
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
    code: trpcCode(error),
    message: error.message,
    cause: error,
  });
}

export function formatZod(error: ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
