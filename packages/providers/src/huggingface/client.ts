import { decodeJson } from '../http';
import { trimSlash } from '../shared/text';
import type { ProviderContext } from '../types';
import { UPSTREAM, whoamiError } from './errors';
import { WhoAmIV2Response } from './schemas';

/** `GET {HF_ENDPOINT}/api/whoami-v2` with the token: who it belongs to and what it may do. */
export async function whoami(ctx: ProviderContext, token: string): Promise<WhoAmIV2Response> {
  const base = trimSlash(ctx.upstreams.huggingfaceEndpoint);
  const res = await ctx.http.request(UPSTREAM, `${base}/api/whoami-v2`, {
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  if (res.status < 200 || res.status >= 300) throw whoamiError(res, ctx.now());
  return decodeJson(UPSTREAM, res, WhoAmIV2Response, {
    what: 'whoami-v2',
    hint: 'Check the Hugging Face endpoint configuration, or try again later.',
  });
}
