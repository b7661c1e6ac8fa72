import { AppError } from '../errors';
import type { Principal } from './bearer';

export type Requirement = 'read' | 'step_up' | 'service';

export const MFA_METHODS = ['mfa', 'otp', 'hwk', 'swk'];

/** Every org's credentials. */
export const SERVICE_SCOPE = 'integrations:use';
/** One org's credentials: `integrations:use:org:<org_id>`. */
export const ORG_SERVICE_SCOPE_PREFIX = `${SERVICE_SCOPE}:org:`;

/** Which scope let a service act for an org: one naming that org, or the platform-wide one. */
export type ServiceBinding = 'org' | 'platform';

export interface RequirementOptions {
  maxAge: number;
  now: Date;
  /** The org a service call acts for (from its input). */
  orgId?: string | null;
  /** Whether plain `integrations:use` is honoured (ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE). */
  platformServiceScope?: boolean;
}

export function serviceBinding(
  principal: Principal,
  orgId: string | null | undefined,
  platformServiceScope: boolean,
): ServiceBinding | null {
  if (orgId && principal.scopes.includes(`${ORG_SERVICE_SCOPE_PREFIX}${orgId}`)) return 'org';
  if (platformServiceScope && principal.scopes.includes(SERVICE_SCOPE)) return 'platform';
  return null;
}

/**
 * Check what a procedure needs of its caller. Reads: admin:cluster or admin:read. Mutations:
 * admin:cluster plus a fresh MFA (RFC 9470 challenge otherwise). Services: `integrations:use`
 * (every org) or `integrations:use:org:<org_id>` for the org of the call; another org's
 * resources answer NOT_FOUND, as everywhere else.
 */
export function assertRequirement(principal: Principal, requirement: Requirement, opts: RequirementOptions): void {
  const has = (s: string) => principal.scopes.includes(s);
  const scopeError = (scope: string) =>
    new AppError('insufficient_scope', `This call needs the "${scope}" scope.`, {
      headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
    });
  if (requirement === 'service') {
    const platform = opts.platformServiceScope ?? true;
    if (serviceBinding(principal, opts.orgId, platform)) return;
    const orgBound = principal.scopes.some((s) => s.startsWith(ORG_SERVICE_SCOPE_PREFIX));
    if (orgBound && opts.orgId) {
      throw new AppError('not_found', `Nothing of org ${opts.orgId} is available to this service.`);
    }
    throw scopeError(platform ? SERVICE_SCOPE : `${ORG_SERVICE_SCOPE_PREFIX}${opts.orgId ?? '<org_id>'}`);
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
