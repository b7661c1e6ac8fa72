import type { AppRouter } from '@alphaswarm/api';
import { TRPCClientError } from '@trpc/client';
import type { Failure } from '$lib/failure';
import { SignedOutError } from './auth';

export type { Failure };

const SIGNED_OUT: Failure = {
  code: 'invalid_token',
  message: 'Your session has ended; sign in again.',
  field: null,
  upstream: null,
  status: 401,
};

export function toFailure(error: unknown): Failure {
  if (error instanceof SignedOutError) return SIGNED_OUT;
  if (error instanceof TRPCClientError) {
    if (error.cause instanceof SignedOutError) return SIGNED_OUT;
    // The API's error shape (its errorFormatter): a stable code, never the message, decides what the console does.
    const data = (error as TRPCClientError<AppRouter>).data;
    if (typeof data?.app_code === 'string') {
      return {
        code: data.app_code,
        message: error.message,
        field: data.field ?? null,
        upstream: data.upstream ?? null,
        status: data.httpStatus ?? 500,
      };
    }
    if (!data) {
      return {
        code: 'upstream_unavailable',
        message: 'The admin API is unreachable; check that the server is running and ALPHASWARM_ADMIN_API_URL.',
        field: null,
        upstream: null,
        status: 502,
      };
    }
  }
  return {
    code: 'internal',
    message: 'Unexpected error; see the console log.',
    field: null,
    upstream: null,
    status: 500,
  };
}

export const isStepUpNeeded = (f: Failure) => f.code === 'insufficient_user_authentication';
/** The session's tokens are no longer accepted: sign in again. */
export const isSignedOut = (f: Failure) => f.code === 'invalid_token';
/**
 * A refused step-up that ends the sign-in (expired or spent token, disabled account), as opposed
 * to a wrong or reused code (`field: 'code'`), after which the admin just tries the next code.
 */
export const mustSignInAgain = (f: Failure) =>
  f.code === 'invalid_token' && f.field !== 'code' && f.field !== 'recovery_code';
