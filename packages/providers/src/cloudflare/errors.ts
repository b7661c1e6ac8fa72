import { ProviderError } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import type { HttpResponse } from '../http';
import { errorBody, passingFault, unexpectedAnswer } from '../shared/errors';
import { PERMISSION_GROUPS } from './policies';
import { CfErrorEnvelope } from './schemas';

export const UPSTREAM = kinds.cloud_cloudflare.label;
export const NEW_TOKEN_HINT = 'Create a new account API token in the Cloudflare dashboard and reconnect with it.';

export function requiredList(): string {
  return PERMISSION_GROUPS.filter((g) => g.required)
    .map((g) => `"${g.name}"`)
    .join(', ');
}

export function errorCodes(res: HttpResponse): number[] {
  const body = errorBody(res, CfErrorEnvelope);
  return body ? body.errors.flatMap((e) => [e.code, ...(e.error_chain ?? []).map((c) => c.code)]) : [];
}

/** `HTTP 403, code 10000` (with the envelope's codes), for messages. */
export function cfDetail(res: HttpResponse): string {
  const codes = errorCodes(res);
  return codes.length > 0 ? `HTTP ${res.status}, code ${codes.join('/')}` : `HTTP ${res.status}`;
}

export function errorFor(res: HttpResponse, now: Date, what: string): ProviderError {
  const codes = errorCodes(res);
  const status = res.status;
  const detail = cfDetail(res);
  if (codes.includes(6003) || codes.includes(6111)) {
    return new ProviderError(
      'invalid_request',
      UPSTREAM,
      `Cloudflare could not read the API token from the Authorization header (${detail}). Paste the token value exactly as the dashboard showed it.`,
      { status, field: 'api_token' },
    );
  }
  if (codes.includes(1000) || status === 401) {
    return new ProviderError(
      'credential_rejected',
      UPSTREAM,
      `Cloudflare does not accept the API token (${detail}). Check it was copied whole and has not been deleted or rolled; otherwise ${NEW_TOKEN_HINT.charAt(0).toLowerCase()}${NEW_TOKEN_HINT.slice(1)}`,
      { status },
    );
  }
  if (status === 403) {
    return new ProviderError(
      'permission_missing',
      UPSTREAM,
      `Cloudflare denied ${what} (${detail}). Give the token ${requiredList()} on this account.`,
      { status },
    );
  }
  return (
    passingFault(UPSTREAM, res, now, { detail }) ??
    unexpectedAnswer(UPSTREAM, res, { what: `while ${what}`, detail, setting: 'Cloudflare API URL' })
  );
}
