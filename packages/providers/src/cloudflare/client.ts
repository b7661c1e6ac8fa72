import type { z } from 'zod';
import { decodeJson, type HttpRequest, type HttpResponse } from '../http';
import { trimSlash } from '../shared/text';
import type { ProviderContext } from '../types';
import { errorCodes, errorFor, UPSTREAM } from './errors';
import {
  type CloudflareIdentityParams,
  type TokenDetails,
  TokenDetailsEnvelope,
  VerifyEnvelope,
  type VerifyResult,
} from './schemas';

const PER_PAGE = 50;
const MAX_PAGES = 20;

export type Params = CloudflareIdentityParams;

export type TokenOwner = 'account' | 'user';

export async function cf(
  ctx: ProviderContext,
  token: string,
  path: string,
  req: HttpRequest = {},
): Promise<HttpResponse> {
  const base = trimSlash(ctx.upstreams.cloudflare.apiUrl);
  return ctx.http.request(UPSTREAM, `${base}${path}`, {
    ...req,
    headers: { ...req.headers, authorization: `Bearer ${token}` },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

export function ok(res: HttpResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

/**
 * Verify on the account route (account-owned tokens); a user-owned token answers 1000 or 404
 * there, so fall back to the user route.
 */
export async function verify(
  ctx: ProviderContext,
  accountId: string,
  token: string,
): Promise<{ result: VerifyResult; owner: TokenOwner }> {
  const res = await cf(ctx, token, `/accounts/${encodeURIComponent(accountId)}/tokens/verify`);
  if (ok(res))
    return { result: decodeJson(UPSTREAM, res, VerifyEnvelope, { what: 'token verify' }).result, owner: 'account' };
  if (res.status === 404 || errorCodes(res).includes(1000)) {
    const user = await cf(ctx, token, '/user/tokens/verify');
    if (ok(user))
      return { result: decodeJson(UPSTREAM, user, VerifyEnvelope, { what: 'token verify' }).result, owner: 'user' };
    throw errorFor(user, ctx.now(), 'verifying the token');
  }
  throw errorFor(res, ctx.now(), 'verifying the token');
}

/** The token's own record with its policies; null when the token may not read it. */
export async function tokenDetails(
  ctx: ProviderContext,
  params: Params,
  tokenId: string,
  owner: TokenOwner,
): Promise<TokenDetails | null> {
  const path =
    owner === 'user'
      ? `/user/tokens/${encodeURIComponent(tokenId)}`
      : `/accounts/${encodeURIComponent(params.account_id)}/tokens/${encodeURIComponent(tokenId)}`;
  const res = await cf(ctx, params.api_token, path);
  if (res.status === 403) return null;
  if (!ok(res)) throw errorFor(res, ctx.now(), "reading the token's policies");
  return decodeJson(UPSTREAM, res, TokenDetailsEnvelope, { what: 'the token details' }).result;
}

/** Page through a list until `page * per_page >= total_count`, an empty page, or the cap. */
export async function paged<T>(
  ctx: ProviderContext,
  token: string,
  path: string,
  query: Record<string, string>,
  schema: z.ZodType<{
    result: T[];
    result_info?: { page: number; per_page: number; total_count?: number | undefined } | undefined;
  }>,
  cap: number,
  what: string,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const qs = new URLSearchParams({ ...query, page: String(page), per_page: String(PER_PAGE) });
    const res = await cf(ctx, token, `${path}?${qs}`);
    if (!ok(res)) throw errorFor(res, ctx.now(), what);
    const body = decodeJson(UPSTREAM, res, schema, { what });
    for (const item of body.result) {
      if (items.length >= cap) return { items, truncated: true };
      items.push(item);
    }
    const info = body.result_info;
    if (!info || info.total_count === undefined || body.result.length === 0) return { items, truncated: false };
    if (info.page * info.per_page >= info.total_count) return { items, truncated: false };
  }
  return { items, truncated: true };
}
