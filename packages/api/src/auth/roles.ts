import { OrgId } from '@alphaswarm/contracts';
import type { JWTPayload } from 'jose';

/** Every org, all actions (mutations with a fresh MFA). */
export const CLUSTER_SCOPE = 'admin:cluster';
/** Every org, reads only. */
export const READ_SCOPE = 'admin:read';
/** One org, reads and mutations: `admin:org:<org_id>`. */
export const ORG_ADMIN_SCOPE_PREFIX = 'admin:org:';

/** Where a scope came from, as the audit names it: `token scope`, or `<claim>:<value>` of a mapped role. */
export type Grants = Record<string, string>;

export interface RoleMapping {
  /** Dotted path of the claim holding the caller's groups or roles (`groups`, `realm_access.roles`). */
  claim: string;
  /** Claim value → the admin scopes it grants. */
  map: Map<string, string[]>;
}

export class RoleMapError extends Error {
  override readonly name = 'RoleMapError';
}

export function isAdminScope(scope: string): boolean {
  if (scope === CLUSTER_SCOPE || scope === READ_SCOPE) return true;
  return (
    scope.startsWith(ORG_ADMIN_SCOPE_PREFIX) && OrgId.safeParse(scope.slice(ORG_ADMIN_SCOPE_PREFIX.length)).success
  );
}

/**
 * `ALPHASWARM_ADMIN_ROLE_MAP`: comma-separated `<claim value>=<scope>` pairs
 * (`platform-admins=admin:cluster,acme-admins=admin:org:org-acme`); a value may appear more than
 * once to grant several scopes. Only admin scopes can be granted this way, so a group can never
 * turn into a service's `integrations:use`.
 */
export function parseRoleMap(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of text.split(',')) {
    const pair = raw.trim();
    if (!pair) continue;
    const at = pair.lastIndexOf('=');
    const value = pair.slice(0, at).trim();
    const scope = pair.slice(at + 1).trim();
    if (at <= 0 || !value) throw new RoleMapError(`"${pair}" is not <group or role>=<scope>.`);
    if (!isAdminScope(scope)) {
      throw new RoleMapError(
        `"${scope}" (for "${value}") is not admin:cluster, admin:read or admin:org:<org_id> with a valid org id.`,
      );
    }
    const scopes = map.get(value) ?? [];
    if (!scopes.includes(scope)) scopes.push(scope);
    map.set(value, scopes);
  }
  return map;
}

function claimValues(payload: JWTPayload, path: string): string[] {
  let node: unknown = payload;
  for (const part of path.split('.')) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return [];
    node = (node as Record<string, unknown>)[part];
  }
  if (typeof node === 'string') return [node];
  return Array.isArray(node) ? node.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * The scopes a token carries and where each came from: its own `scope`/`scp`, then the admin scopes
 * its role claim maps to. The first source of a scope is the one the audit names.
 */
export function grantsOf(tokenScopes: string[], payload: JWTPayload, roles: RoleMapping | null): Grants {
  const grants: Grants = {};
  for (const scope of tokenScopes) grants[scope] ??= 'token scope';
  if (!roles) return grants;
  for (const value of claimValues(payload, roles.claim)) {
    for (const scope of roles.map.get(value) ?? []) grants[scope] ??= `${roles.claim}:${value}`;
  }
  return grants;
}
