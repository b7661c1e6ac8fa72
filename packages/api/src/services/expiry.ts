import { expiryState, inDays } from '@alphaswarm/contracts/kinds';

/**
 * A credential close to expiry works but needs attention: degrade it with a dated message; one
 * past it is unhealthy. One rule (the contracts' expiry policy) for every kind that records one.
 */
export function applyExpiryRule<T extends { status: string; error: { code: string; message: string } | null }>(
  result: T,
  expiresAt: string | null,
  label: string,
  now: Date,
): T {
  const expiry = expiryState(expiresAt, now);
  // An upstream verdict (e.g. the token was revoked) says more than our dated guess.
  if (expiry.state === 'none' || expiry.state === 'valid' || result.status === 'unhealthy') return result;
  if (expiry.state === 'expired') {
    return {
      ...result,
      status: 'unhealthy',
      error: {
        code: 'credential_expired',
        message: `The ${label} credential expired at ${expiresAt}. Create a new one and reconnect.`,
      },
    };
  }
  if (result.status !== 'healthy') return result;
  return {
    ...result,
    status: 'degraded',
    error: {
      code: 'expiring_soon',
      message: `The ${label} credential expires at ${expiresAt} (${inDays(expiry.daysLeft)}). Create a new one and reconnect before then.`,
    },
  };
}
