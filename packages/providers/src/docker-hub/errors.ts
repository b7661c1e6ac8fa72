import { ProviderError } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import type { z } from 'zod';
import { type HttpResponse, retryAfterSeconds } from '../http';
import { errorBody, httpDetail, passingFault, unexpectedAnswer } from '../shared/errors';
import { clip } from '../shared/text';
import { DockerErrorBody, TWO_FACTOR_DETAIL } from './schemas';

export const UPSTREAM = kinds.docker_hub.label;
export const PAT_PLACE = 'Docker Hub (Account settings → Personal access tokens)';

export function loginError(res: HttpResponse, now: Date): ProviderError {
  const body = dockerError(res);
  if ((res.status === 401 || res.status === 403) && (body?.detail === TWO_FACTOR_DETAIL || body?.login_2fa_token)) {
    return new ProviderError(
      'credential_rejected',
      UPSTREAM,
      `Docker Hub asked for a second authentication factor, which means the account password was given instead of a personal access token. Create a personal access token on ${PAT_PLACE} and use it instead of the password.`,
      { status: res.status, field: 'pat' },
    );
  }
  if (res.status === 401 || res.status === 403) {
    return new ProviderError(
      'credential_rejected',
      UPSTREAM,
      `Docker Hub rejected the username or personal access token (${describe(res, body?.detail ?? body?.message)}). Check the username, or create a new personal access token on ${PAT_PLACE} and connect again.`,
      { status: res.status },
    );
  }
  return commonError(res, now, 'login', body?.detail ?? body?.message);
}

export function denied(namespace: string, username: string | undefined, why: string): ProviderError {
  return new ProviderError(
    'namespace_denied',
    UPSTREAM,
    `Docker Hub namespace "${clip(namespace)}" ${why}. Use your own username${username ? ` ("${clip(username)}")` : ''} or an organization this account is a member of.`,
    { field: 'namespace' },
  );
}

export function sessionRejected(res: HttpResponse, text: string | undefined): ProviderError {
  return new ProviderError(
    'credential_rejected',
    UPSTREAM,
    `Docker Hub rejected the session minted from this personal access token (${describe(res, text)}). Create a new personal access token on ${PAT_PLACE} and connect again.`,
    { status: res.status },
  );
}

export function commonError(res: HttpResponse, now: Date, what: string, text: string | undefined): ProviderError {
  const detail = describe(res, text);
  return (
    passingFault(UPSTREAM, res, now, {
      detail,
      retryAfter: retryAfterSeconds(res.headers, now) ?? resetSeconds(res.headers, now),
    }) ?? unexpectedAnswer(UPSTREAM, res, { what: `the ${what}`, detail, setting: 'Docker Hub URL' })
  );
}

/** Without a retry header, the window reset (`X-RateLimit-Reset`, unix seconds) still tells when to come back. */
function resetSeconds(headers: Record<string, string>, now: Date): number | undefined {
  const raw = headers['x-ratelimit-reset'];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return Math.max(0, Number(raw.trim()) - Math.floor(now.getTime() / 1000));
}

export function dockerError(res: HttpResponse): z.infer<typeof DockerErrorBody> | undefined {
  return errorBody(res, DockerErrorBody);
}

export function describe(res: HttpResponse, text: string | undefined): string {
  return httpDetail(res.status, text);
}
