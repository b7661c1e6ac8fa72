import { AppError } from '../errors';
import type { Principal } from './bearer';
import { CLUSTER_SCOPE, ORG_ADMIN_SCOPE_PREFIX, READ_SCOPE } from './roles';

export type Requirement = 'read' | 'step_up' | 'service';

export const MFA_METHODS = ['mfa', 'otp', 'hwk', 'swk'];

/** Every org's credentials. */
export const SERVICE_SCOPE = 'integrations:use';
/** One org's credentials: `integrations:use:org:<org_id>`. */
export const ORG_SERVICE_SCOPE_PREFIX = `${SERVICE_SCOPE}:org:`;

/** Which scope let a service act for an org: one naming that org, or the platform-wide one. */
export type ServiceBinding = 'org' | 'platform';

/**
 * What an admin call may reach and the role that allowed it (the audit records it). `orgs` null:
 * every org; otherwise only those (`admin:org:<org_id>`), and lists are narrowed to them.
 */
export interface AdminAccess {
  role: string;
  /** Where the role came from: `token scope` or the mapped claim value (`groups:platform-admins`). */
  via: string;
  orgs: string[] | null;
}

/**
 * How a procedure relates to orgs: `org` (the default) acts on the org its input names; `filtered`
 * lists across orgs and narrows itself to `AdminAccess.orgs`; `none` is about the caller only.
 */
export type OrgReach = 'org' | 'filtered' | 'none';

export interface RequirementOptions {
  maxAge: number;
  now: Date;
  /** The org the call acts for (from its input). */
  orgId?: string | null;
  reach?: OrgReach;
  /** `acr` values a step-up must carry (any of them); empty or absent: any MFA will do. */
  acr?: string[];
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
 * Check what a procedure needs of its caller. Reads: admin:cluster, admin:read, or admin:org:<org_id>
 * for the org of the call. Mutations: admin:cluster or that org's admin:org scope, plus a fresh
 * MFA (RFC 9470 challenge otherwise). Services: `integrations:use`
 * (every org) or `integrations:use:org:<org_id>` for the org of the call; another org's
 * resources answer NOT_FOUND, as everywhere else.
 */
export function assertRequirement(
  principal: Principal,
  requirement: Requirement,
  opts: RequirementOptions,
): AdminAccess | null {
  const scopeError = (scope: string) =>
    new AppError('insufficient_scope', `This call needs the "${scope}" scope.`, {
      headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
    });
  if (requirement === 'service') {
    const platform = opts.platformServiceScope ?? true;
    if (serviceBinding(principal, opts.orgId, platform)) return null;
    const orgBound = principal.scopes.some((s) => s.startsWith(ORG_SERVICE_SCOPE_PREFIX));
    if (orgBound && opts.orgId) {
      throw new AppError('not_found', `Nothing of org ${opts.orgId} is available to this service.`);
    }
    throw scopeError(platform ? SERVICE_SCOPE : `${ORG_SERVICE_SCOPE_PREFIX}${opts.orgId ?? '<org_id>'}`);
  }
  const access = adminAccess(principal, requirement, opts, scopeError);
  if (requirement === 'read') return access;
  const mfa = principal.amr.some((m) => MFA_METHODS.includes(m));
  const age = principal.authTime === null ? Number.POSITIVE_INFINITY : opts.now.getTime() / 1000 - principal.authTime;
  const acr = opts.acr ?? [];
  const acrMet = acr.length === 0 || (typeof principal.claims.acr === 'string' && acr.includes(principal.claims.acr));
  if (!mfa || age > opts.maxAge || !acrMet) {
    const description = !mfa
      ? 'This action needs multi-factor authentication'
      : !acrMet
        ? `This action needs a sign-in at level ${acr.join(' or ')} (acr)`
        : `This action needs an authentication less than ${opts.maxAge} seconds old`;
    // RFC 9470: acr_values tells the client which level to ask its IdP for.
    const acrValues = acr.length > 0 ? `, acr_values="${acr.join(' ')}"` : '';
    throw new AppError('insufficient_user_authentication', `${description}; step up and retry.`, {
      headers: {
        'www-authenticate': `Bearer error="insufficient_user_authentication", error_description="${description}"${acrValues}, max_age=${opts.maxAge}`,
      },
    });
  }
  return access;
}

/** The org ids a principal administers through `admin:org:<org_id>`. */
export function adminOrgs(principal: Principal): string[] {
  return principal.scopes
    .filter((s) => s.startsWith(ORG_ADMIN_SCOPE_PREFIX))
    .map((s) => s.slice(ORG_ADMIN_SCOPE_PREFIX.length));
}

function adminAccess(
  principal: Principal,
  requirement: 'read' | 'step_up',
  opts: RequirementOptions,
  scopeError: (scope: string) => AppError,
): AdminAccess {
  const grant = (role: string, orgs: string[] | null): AdminAccess => ({
    role,
    via: principal.grants[role] ?? 'token scope',
    orgs,
  });
  if (principal.scopes.includes(CLUSTER_SCOPE)) return grant(CLUSTER_SCOPE, null);
  if (requirement === 'read' && principal.scopes.includes(READ_SCOPE)) return grant(READ_SCOPE, null);
  const orgs = adminOrgs(principal);
  if (orgs.length === 0) throw scopeError(CLUSTER_SCOPE);
  const reach = opts.reach ?? 'org';
  if (reach === 'none' || reach === 'filtered') {
    // A list narrowed to the caller's orgs; each org's scope is named by the rows it returns.
    const role = orgs.length === 1 ? `${ORG_ADMIN_SCOPE_PREFIX}${orgs[0]}` : `${ORG_ADMIN_SCOPE_PREFIX}*`;
    return { role, via: principal.grants[`${ORG_ADMIN_SCOPE_PREFIX}${orgs[0]}`] ?? 'token scope', orgs };
  }
  if (!opts.orgId) throw scopeError(CLUSTER_SCOPE);
  // Another org's resources do not exist for this caller: NOT_FOUND, as for services.
  if (!orgs.includes(opts.orgId)) throw new AppError('not_found', `Nothing of org ${opts.orgId} is available to you.`);
  return grant(`${ORG_ADMIN_SCOPE_PREFIX}${opts.orgId}`, orgs);
}
