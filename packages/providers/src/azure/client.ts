import { createHttpHeaders, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import { ClientAssertionCredential } from '@azure/identity';
import { httpMethod, recording, requestBody, type TransportFaults } from '../shared/sdk-transport';
import type { ProviderContext } from '../types';

export const ENTRA = 'Microsoft Entra ID';

/**
 * @azure/identity's transport, over our HttpClient: MSAL's metadata and token requests get its
 * connect and total timeouts, size cap, TLS trust and no-redirect rule. Identity's own Node
 * client reads a reply of any size in full. What it throws lands in `faults`, since MSAL and
 * identity wrap it in their own errors.
 */
function entraHttpClient(ctx: ProviderContext, faults: TransportFaults): HttpClient {
  return {
    async sendRequest(request: PipelineRequest) {
      const res = await recording(faults, () => {
        const body = requestBody(request.body, ENTRA);
        return ctx.http.request(ENTRA, request.url, {
          method: httpMethod(request.method, ENTRA),
          headers: request.headers.toJSON(),
          ...(body === undefined ? {} : { body }),
          ...(request.abortSignal instanceof AbortSignal ? { signal: request.abortSignal } : {}),
        });
      });
      return { request, status: res.status, headers: createHttpHeaders(res.headers), bodyAsText: res.body };
    },
  };
}

/**
 * The real @azure/identity flow: MSAL fetches the tenant's OIDC metadata and posts our subject
 * token (from `assertion`) as the client assertion.
 */
export function entraCredential(
  ctx: ProviderContext,
  ids: { tenantId: string; clientId: string; authorityHost: string },
  assertion: () => Promise<string>,
  faults: TransportFaults,
): ClientAssertionCredential {
  return new ClientAssertionCredential(ids.tenantId, ids.clientId, assertion, {
    authorityHost: ids.authorityHost,
    disableInstanceDiscovery: true,
    httpClient: entraHttpClient(ctx, faults),
    retryOptions: { maxRetries: 1, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 },
    userAgentOptions: { userAgentPrefix: ctx.http.options.userAgent },
  });
}
