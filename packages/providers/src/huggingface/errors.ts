import { ProviderError } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import type { HttpResponse } from '../http';
import { errorBody, httpDetail, passingFault, unexpectedAnswer } from '../shared/errors';
import { clip } from '../shared/text';
import { HfErrorBody } from './schemas';

export const UPSTREAM = kinds.huggingface.label;
export const NEW_TOKEN_HINT =
  'Create a new fine-grained read token on Hugging Face (Settings → Access Tokens) and connect again with it.';

/** What a non-2xx answer to whoami-v2 means. */
export function whoamiError(res: HttpResponse, now: Date): ProviderError {
  const detail = httpDetail(res.status, upstreamText(res));
  if (res.status === 401 || res.status === 403) {
    return new ProviderError(
      'credential_rejected',
      UPSTREAM,
      `Hugging Face rejected the token (${detail}). ${NEW_TOKEN_HINT}`,
      { status: res.status, field: 'token' },
    );
  }
  return (
    passingFault(UPSTREAM, res, now, { detail }) ??
    unexpectedAnswer(UPSTREAM, res, { what: 'whoami-v2', detail, setting: 'Hugging Face endpoint' })
  );
}

/** The upstream's own words, as huggingface_hub reads them: `X-Error-Message`, then the body. */
function upstreamText(res: HttpResponse): string {
  const header = res.headers['x-error-message'];
  if (header) return clip(header);
  const body = errorBody(res, HfErrorBody);
  if (!body) return '';
  const { error, error_description, errors } = body;
  const first = Array.isArray(error) ? error.join('; ') : error;
  return clip(
    first ||
      error_description ||
      errors
        ?.map((e) => e.message)
        .filter(Boolean)
        .join('; ') ||
      '',
  );
}
