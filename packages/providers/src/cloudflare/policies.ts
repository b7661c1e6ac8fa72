import type { PolicyResources, TokenPolicy } from './schemas';

export type GroupScope = 'com.cloudflare.api.account' | 'com.cloudflare.api.account.zone';

export interface PermissionGroupSpec {
  /** The name Cloudflare shows in the dashboard and returns in token policies. */
  name: string;
  /** Equivalent names (a user-owned token carries the user-level variant). */
  aliases?: string[];
  scope: GroupScope;
  required: boolean;
  why: string;
  /** The alias is a user-level group (user-owned tokens), granted on `com.cloudflare.api.user.<id>`. */
  userLevelAlias?: boolean;
}

/**
 * The exact permission groups the platform asks for.
 * - Account Settings Read: read the account itself (validation, enumeration).
 * - Zone Read: list the account's zones.
 * - Account API Tokens Read: read this token's own policies, so we can prove it is no broader
 *   than this list; without it we would have to take the token's scope on faith.
 * - DNS Read (optional): read DNS records of the zones.
 * - Account API Tokens Write (optional): only for rolling the secret in place (rotate). It lets the
 *   token manage the account's tokens, so the templates leave it off unless asked for.
 */
export const PERMISSION_GROUPS: readonly PermissionGroupSpec[] = [
  { name: 'Account Settings Read', scope: 'com.cloudflare.api.account', required: true, why: 'read the account' },
  { name: 'Zone Read', scope: 'com.cloudflare.api.account.zone', required: true, why: "list the account's zones" },
  {
    name: 'Account API Tokens Read',
    aliases: ['API Tokens Read'],
    userLevelAlias: true,
    scope: 'com.cloudflare.api.account',
    required: true,
    why: "let us read this token's own policies to check it is not broader than needed",
  },
  { name: 'DNS Read', scope: 'com.cloudflare.api.account.zone', required: false, why: 'read DNS records' },
  {
    name: 'Account API Tokens Write',
    aliases: ['API Tokens Write', 'API Tokens Edit'],
    userLevelAlias: true,
    scope: 'com.cloudflare.api.account',
    required: false,
    why: 'roll this token in place from the console (grants token management on the account; leave off unless needed)',
  },
];

export const SELF_READ_GROUP = PERMISSION_GROUPS[2]!;

const ACCOUNT_PREFIX = 'com.cloudflare.api.account.';
const ZONE_PREFIX = 'com.cloudflare.api.account.zone.';
const ALL_ACCOUNTS = 'com.cloudflare.api.account.*';
const USER_PREFIX = 'com.cloudflare.api.user.';

function names(spec: PermissionGroupSpec): string[] {
  return [spec.name, ...(spec.aliases ?? [])].map((n) => n.toLowerCase());
}

function isListed(groupName: string | undefined): boolean {
  const n = (groupName ?? '').toLowerCase();
  return PERMISSION_GROUPS.some((spec) => names(spec).includes(n));
}

/** Every resource pattern of a policy, nested levels included. */
function patterns(resources: PolicyResources): string[] {
  return Object.entries(resources).flatMap(([key, value]) =>
    typeof value === 'string' ? [key] : [key, ...patterns(value)],
  );
}

/**
 * Does this policy's resource set reach `accountId` (account-level groups) or that account's zones
 * (zone-level groups)? Only top-level keys count for the account, so zones nested under another
 * account never do. A top-level zone pattern (all zones, or one zone id) is taken as reaching the
 * account's zones: the zone's account is not visible in the policy.
 */
function covers(policy: TokenPolicy, accountId: string, spec: PermissionGroupSpec): boolean {
  const own = `${ACCOUNT_PREFIX}${accountId}`;
  return Object.keys(policy.resources).some(
    (key) =>
      key === own ||
      key === ALL_ACCOUNTS ||
      (spec.scope === 'com.cloudflare.api.account.zone' && key.startsWith(ZONE_PREFIX)) ||
      (spec.userLevelAlias === true && key.startsWith(USER_PREFIX)),
  );
}

/**
 * A group is granted when an allow policy carries it over this account and no deny policy
 * carries it there too (deny wins, as in Cloudflare's evaluation).
 */
export function isGranted(policies: readonly TokenPolicy[], spec: PermissionGroupSpec, accountId: string): boolean {
  const wanted = names(spec);
  const carries = (p: TokenPolicy) => p.permission_groups.some((g) => wanted.includes((g.name ?? '').toLowerCase()));
  const allowed = policies.some((p) => p.effect === 'allow' && carries(p) && covers(p, accountId, spec));
  const denied = policies.some((p) => p.effect === 'deny' && carries(p) && covers(p, accountId, spec));
  return allowed && !denied;
}

/**
 * Why a token is broader than the platform needs, in words an operator can act on; empty when
 * it is not. Deny policies only narrow a token, so only allow policies count.
 */
export function broadness(policies: readonly TokenPolicy[], accountId: string): string[] {
  const issues = new Set<string>();
  for (const policy of policies) {
    if (policy.effect !== 'allow') continue;
    for (const pattern of patterns(policy.resources)) {
      if (pattern === ALL_ACCOUNTS) {
        issues.add('a policy covers all accounts (com.cloudflare.api.account.*); limit it to this account');
      } else if (
        pattern.startsWith(ACCOUNT_PREFIX) &&
        !pattern.startsWith(ZONE_PREFIX) &&
        pattern !== `${ACCOUNT_PREFIX}${accountId}`
      ) {
        issues.add(`a policy covers another account (${pattern}); limit it to this account`);
      }
    }
    for (const group of policy.permission_groups) {
      if (!isListed(group.name) && /\b(write|edit|admin)\b/i.test(group.name ?? '')) {
        issues.add(`it grants "${group.name}", which the platform does not need; remove it`);
      }
    }
  }
  return [...issues];
}

/** Names of every permission group the token's allow policies carry, for the link metadata. */
export function grantedGroupNames(policies: readonly TokenPolicy[]): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    if (p.effect !== 'allow') continue;
    for (const g of p.permission_groups) out.add(g.name ?? g.id);
  }
  return [...out].sort();
}
