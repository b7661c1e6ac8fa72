import { AppError } from '../errors';
import type { Principal } from './verifier';

export type Requirement = 'read' | 'step_up' | 'service';

export const MFA_METHODS = ['mfa', 'otp', 'hwk', 'swk'];

/**
 * Check what a procedure needs of its caller. Reads: admin:cluster or admin:read. Mutations:
 * admin:cluster plus a fresh MFA (RFC 9470 challenge otherwise). Services: integrations:use.
 */
export function assertRequirement(
  principal: Principal,
  requirement: Requirement,
  opts: { maxAge: number; now: Date },
): void {
  const has = (s: string) => principal.scopes.includes(s);
  const scopeError = (scope: string) =>
    new AppError('insufficient_scope', `This call needs the "${scope}" scope.`, {
      headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
    });
  if (requirement === 'service') {
    if (!has('integrations:use')) throw scopeError('integrations:use');
    return;
  }
  if (requirement === 'read') {
    if (!has('admin:cluster') && !has('admin:read')) throw scopeError('admin:cluster');
    return;
  }
  if (!has('admin:cluster')) throw scopeError('admin:cluster');
  const mfa = principal.amr.some((m) => MFA_METHODS.includes(m));
  const age = principal.authTime === null ? Number.POSITIVE_INFINITY : opts.now.getTime() / 1000 - principal.authTime;
  if (!mfa || age > opts.maxAge) {
    const description = !mfa
      ? 'This action needs multi-factor authentication'
      : `This action needs an authentication less than ${opts.maxAge} seconds old`;
    throw new AppError('insufficient_user_authentication', `${description}; step up and retry.`, {
      headers: {
        'www-authenticate': `Bearer error="insufficient_user_authentication", error_description="${description}", max_age=${opts.maxAge}`,
      },
    });
  }
}
