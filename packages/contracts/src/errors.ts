import { z } from 'zod';

/** Stable error codes shared by tRPC, REST and the CLI. */
export const ErrorCode = z.enum([
  'invalid_request',
  'method_not_allowed',
  'payload_too_large',
  'unsupported_media_type',
  'invalid_token',
  'insufficient_user_authentication',
  'insufficient_scope',
  'not_found',
  'conflict',
  'credential_rejected',
  'namespace_denied',
  'permission_missing',
  'trust_misconfigured',
  'upstream_unavailable',
  'upstream_timeout',
  'audit_unavailable',
  'storage_unavailable',
  'secret_unreadable',
  'precondition_failed',
  'rate_limited',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * A typed failure raised by a provider: which upstream, what went wrong, what the operator can do.
 * Messages must never contain a secret.
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly code: ErrorCode,
    readonly upstream: string,
    message: string,
    readonly details: { status?: number; retryAfterSeconds?: number; field?: string } = {},
  ) {
    super(message);
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}
