import { type PermissionCheck, ProviderError } from '@alphaswarm/contracts';
import type { HealthResult, Warning } from '../types';

/** The required (or optional) checks that were not granted. */
export function ungranted(checks: readonly PermissionCheck[], required: boolean): PermissionCheck[] {
  return checks.filter((c) => c.required === required && !c.granted);
}

export function permissionNames(checks: readonly PermissionCheck[]): string[] {
  return checks.map((c) => c.permission);
}

/** What a link's metadata records as `permissions.missing_optional`. */
export function missingOptional(checks: readonly PermissionCheck[]): string[] {
  return permissionNames(ungranted(checks, false));
}

/** Optional permissions not granted, in each cloud's words for where they are and what grants them. */
export function optionalNotGranted(missing: readonly PermissionCheck[], where: string, grantedBy: string): string {
  const it = missing.length > 1 ? 'them' : 'it';
  return `Optional permission${missing.length > 1 ? 's' : ''} not granted${where}: ${permissionNames(missing).join(', ')}. Features that need ${it} stay off until ${grantedBy} ${it}.`;
}

/** A link is never made while a required permission is missing: permission_missing, worded by the provider. */
export function requireGranted(
  checks: readonly PermissionCheck[],
  upstream: string,
  refusal: (missing: PermissionCheck[]) => string,
): void {
  const missing = ungranted(checks, true);
  if (missing.length > 0) throw new ProviderError('permission_missing', upstream, refusal(missing));
}

/** Optional permissions not granted, as the one warning a link carries about them (none when all are granted). */
export function optionalWarnings(
  checks: readonly PermissionCheck[],
  describe: (missing: PermissionCheck[]) => string,
): Warning[] {
  const missing = ungranted(checks, false);
  return missing.length > 0 ? [{ code: 'permission_missing', message: describe(missing) }] : [];
}

/**
 * The verdict of a probe that reached the upstream and read the principal's permissions: a lost
 * required permission makes the link unhealthy, a missing optional one degrades it.
 */
export function permissionHealth(
  checks: readonly PermissionCheck[],
  wording: { lost: (missing: PermissionCheck[]) => string; optional: (missing: PermissionCheck[]) => string },
): Pick<HealthResult, 'status' | 'error'> {
  const lost = ungranted(checks, true);
  if (lost.length > 0)
    return { status: 'unhealthy', error: { code: 'permission_missing', message: wording.lost(lost) } };
  const [warning] = optionalWarnings(checks, wording.optional);
  return warning ? { status: 'degraded', error: warning } : { status: 'healthy', error: null };
}

/** A federated link's health from its principal's permissions; the optional ones it lacks go in its metadata. */
export function permissionHealthResult(
  checks: readonly PermissionCheck[],
  metadata: object,
  wording: { lost: (missing: PermissionCheck[]) => string; optional: (missing: PermissionCheck[]) => string },
): HealthResult {
  return {
    ...permissionHealth(checks, wording),
    metadata: { ...metadata, permissions: { missing_optional: missingOptional(checks) } },
    expires_at: null,
  };
}
