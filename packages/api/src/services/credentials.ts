import type { IntegrationKind } from '@alphaswarm/contracts';
import { getLink } from '@alphaswarm/db';
import { type IssuedCredentials, providerFor } from '@alphaswarm/providers';
import type { ApiDeps } from '../deps';
import { AppError } from '../errors';
import { notFound, unseal } from './links';
import { providerContext } from './provider-context';

/** What a service principal gets to act for an org: the PAT, or cloud credentials minted on the spot. */
export async function issueCredentials(
  deps: ApiDeps,
  orgId: string,
  kind: IntegrationKind,
): Promise<IssuedCredentials> {
  const row = await getLink(deps.db, orgId, kind);
  if (!row) throw notFound(orgId, kind);
  if (row.status === 'needs_reconnect') {
    throw new AppError(
      'secret_unreadable',
      `${row.credentialKey} needs to be reconnected before credentials can be issued.`,
    );
  }
  return (await providerFor(kind)).issueCredentials(providerContext(deps), await unseal(deps, row));
}
