import { ProviderError } from '@alphaswarm/contracts';
import type { HttpResponse } from '../http';
import { errorBody, passingFault, unexpectedAnswer } from '../shared/errors';
import type { ProviderContext } from '../types';
import { ArmErrorBody, AZURE_AUDIENCE } from './schemas';

export const ENTRA = 'Microsoft Entra ID';

/** The facts of the exchange an Entra error is explained against. */
export interface EntraFacts {
  subject: string;
  params: { tenant_id: string; client_id: string };
}

export const ARM = 'Azure Resource Manager';

export const READER_HINT =
  "Assign the Reader role (or a custom role with these actions) to the app's service principal on each subscription, then check again.";

/** Translate what @azure/identity throws into a ProviderError that says what to fix. */
export async function entraError(
  ctx: ProviderContext,
  error: unknown,
  facts: EntraFacts,
  authorityHost: string,
): Promise<ProviderError> {
  if (error instanceof ProviderError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const code = Number(/AADSTS(\d+)/.exec(text)?.[1] ?? /Error\(s\):\s*(\d+)/.exec(text)?.[1] ?? NaN);
  const { tenant_id: tenantId, client_id: clientId } = facts.params;
  const issuer = ctx.workload.issuer;
  const app = `app registration ${clientId} in tenant ${tenantId}`;
  const ref = Number.isNaN(code) ? '' : ` (AADSTS${code})`;
  const trust = (message: string) =>
    new ProviderError('trust_misconfigured', ENTRA, `${message}${ref}`, { field: 'federated_credential' });

  switch (code) {
    case 700211:
      return trust(
        `${ENTRA} found no federated identity credential on ${app} with our issuer. Set the credential's Issuer to exactly "${issuer}" (no trailing slash).`,
      );
    case 700212:
      return trust(
        `${ENTRA} found no federated identity credential on ${app} with our audience. Set the credential's Audience to exactly "${AZURE_AUDIENCE}".`,
      );
    case 700213:
    case 7002137:
    case 7002138:
      return trust(
        `${ENTRA} found no federated identity credential on ${app} with our subject. Set the credential's Subject identifier to exactly "${facts.subject}" (matching is case-sensitive).`,
      );
    case 70021:
      return trust(
        `${ENTRA} found no federated identity credential on ${app} matching our token. The credential must have Issuer exactly "${issuer}", Subject identifier exactly "${facts.subject}" (case-sensitive) and Audience "${AZURE_AUDIENCE}".`,
      );
    case 700027:
      return trust(
        `${ENTRA} could not verify our token's signature with the keys published by the credential's issuer. Check that the Issuer is exactly "${issuer}" and that its discovery document is reachable from the internet.`,
      );
    case 700024:
      return new ProviderError(
        'internal',
        ENTRA,
        `${ENTRA} considers our subject token outside its validity window${ref}; check this server's clock.`,
      );
    case 700016:
      return new ProviderError(
        'credential_rejected',
        ENTRA,
        `${ENTRA} has no application with client id ${clientId} in tenant ${tenantId}${ref}. Check client_id (the app registration's "Application (client) ID") and tenant_id.`,
        { field: 'client_id' },
      );
    case 7000112:
      return new ProviderError(
        'credential_rejected',
        ENTRA,
        `The ${app} is disabled${ref}. Enable it, then check again.`,
      );
    case 90002:
      return tenantNotFound(tenantId, ref);
    case 90033:
      return new ProviderError(
        'upstream_unavailable',
        ENTRA,
        `${ENTRA} reported a transient error${ref}. Try again later.`,
      );
    default:
      break;
  }
  if (!Number.isNaN(code)) {
    return new ProviderError('credential_rejected', ENTRA, `${ENTRA} refused the token request for ${app}${ref}.`);
  }
  if (/endpoints_resolution_error/.test(text)) return diagnoseMetadata(ctx, authorityHost, tenantId);
  return new ProviderError(
    'upstream_unavailable',
    ENTRA,
    `Could not get a token from ${ENTRA}. Check the authority host configuration and network, then try again.`,
  );
}

export function tenantNotFound(tenantId: string, ref: string): ProviderError {
  return new ProviderError(
    'credential_rejected',
    ENTRA,
    `${ENTRA} does not know tenant ${tenantId}${ref}. Check tenant_id (the "Directory (tenant) ID" of the app registration).`,
    { field: 'tenant_id' },
  );
}

/**
 * MSAL folds every failure to read the tenant's OIDC metadata (unreachable, untrusted certificate,
 * unknown tenant, 5xx) into one `endpoints_resolution_error`. Fetch the document ourselves, with
 * the same TLS trust, to say which it was.
 */
export async function diagnoseMetadata(
  ctx: ProviderContext,
  authorityHost: string,
  tenantId: string,
): Promise<ProviderError> {
  let res: HttpResponse;
  try {
    res = await ctx.http.request(
      ENTRA,
      `${authorityHost}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`,
      {
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
    );
  } catch (error) {
    if (error instanceof ProviderError) return error;
    return new ProviderError(
      'upstream_unavailable',
      ENTRA,
      `Could not reach ${ENTRA}. Check the authority host configuration and network.`,
    );
  }
  const code = /AADSTS(\d+)/.exec(res.body)?.[1];
  if (code === '90002' || (res.status === 400 && /invalid_tenant/.test(res.body)))
    return tenantNotFound(tenantId, code ? ` (AADSTS${code})` : '');
  if (res.status >= 500) {
    return new ProviderError(
      'upstream_unavailable',
      ENTRA,
      `${ENTRA} is unavailable (HTTP ${res.status}). Try again later.`,
      { status: res.status },
    );
  }
  return new ProviderError(
    'upstream_unavailable',
    ENTRA,
    `${ENTRA} did not serve usable OpenID metadata for tenant ${tenantId} (HTTP ${res.status}). Check the authority host configuration and tenant_id.`,
    { status: res.status },
  );
}

export function armErrorFor(res: HttpResponse, now: Date, what: string): ProviderError {
  const code = errorBody(res, ArmErrorBody)?.error.code ?? '';
  const detail = `HTTP ${res.status}${code ? ` ${code}` : ''}`;
  const status = res.status;
  if (status === 401) {
    return new ProviderError(
      'credential_rejected',
      ARM,
      `${ARM} rejected the access token from ${ENTRA} while ${what} (${detail}).`,
      { status },
    );
  }
  if (status === 403) {
    return new ProviderError('permission_missing', ARM, `${ARM} denied ${what} (${detail}). ${READER_HINT}`, {
      status,
    });
  }
  return (
    passingFault(ARM, res, now, { detail }) ??
    unexpectedAnswer(ARM, res, { what: `while ${what}`, detail, setting: 'ARM endpoint' })
  );
}
