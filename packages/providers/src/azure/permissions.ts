/** One entry of `GET …/providers/Microsoft.Authorization/permissions`: one per role assignment that applies. */
export interface ArmPermission {
  actions: string[];
  notActions: string[];
  dataActions?: string[];
  notDataActions?: string[];
}

/** Control-plane actions the platform needs on every linked subscription. */
export const REQUIRED_ACTIONS = [
  'Microsoft.Resources/subscriptions/read',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
] as const;

/** Nice to have: without them the platform skips registry / cluster / storage discovery. */
export const OPTIONAL_ACTIONS = [
  'Microsoft.ContainerRegistry/registries/read',
  'Microsoft.ContainerService/managedClusters/read',
  'Microsoft.Storage/storageAccounts/read',
] as const;

const patternCache = new Map<string, RegExp>();

/** ARM action globbing: `*` stands for any run of characters (slashes included); comparison ignores case. */
export function actionMatches(pattern: string, action: string): boolean {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 'i');
    patternCache.set(pattern, re);
  }
  return re.test(action);
}

/**
 * An action is allowed when some entry's `actions` match it and that same entry's `notActions`
 * do not: notActions subtract from their own assignment only, never from another one.
 */
export function isActionAllowed(entries: readonly ArmPermission[], action: string): boolean {
  return entries.some(
    (entry) =>
      entry.actions.some((p) => actionMatches(p, action)) && !entry.notActions.some((p) => actionMatches(p, action)),
  );
}
