import { ProviderError } from '@alphaswarm/contracts';
import type { z } from 'zod';
import { decodeJson, type HttpResponse } from '../http';
import type { ProviderContext } from '../types';
import { commonError, denied, describe, dockerError, loginError, sessionRejected, UPSTREAM } from './errors';
import { AuthTokenResponse, UserOrgsPage, UsersLoginResponse } from './schemas';

const ORGS_PAGE_SIZE = 100;
const MAX_ORG_PAGES = 20;

/** Mint a short-lived JWT: the newer route first, the deprecated one where the newer is absent. */
export async function login(ctx: ProviderContext, base: string, username: string, pat: string): Promise<string> {
  const res = await send(ctx, `${base}/v2/auth/token`, { method: 'POST', json: { identifier: username, secret: pat } });
  if (res.status === 404 || res.status === 405) {
    const legacy = await send(ctx, `${base}/v2/users/login`, { method: 'POST', json: { username, password: pat } });
    if (legacy.status !== 200) throw loginError(legacy, ctx.now());
    return decode(legacy, UsersLoginResponse).token;
  }
  if (res.status !== 200) throw loginError(res, ctx.now());
  return decode(res, AuthTokenResponse).access_token;
}

export async function lookup<T extends z.ZodType>(
  ctx: ProviderContext,
  url: string,
  jwt: string,
  schema: T,
  namespace: string,
): Promise<z.infer<T>> {
  const res = await send(ctx, url, { method: 'GET', headers: { authorization: `Bearer ${jwt}` } });
  if (res.status === 200) return decode(res, schema);
  const body = dockerError(res);
  const text = body?.message || body?.detail;
  if (res.status === 404) throw denied(namespace, undefined, `was not found (${describe(res, text)})`);
  if (res.status === 403)
    throw denied(namespace, undefined, `is not accessible with this token (${describe(res, text)})`);
  if (res.status === 401) throw sessionRejected(res, text);
  throw commonError(res, ctx.now(), 'namespace lookup', text);
}

export async function requireMembership(
  ctx: ProviderContext,
  base: string,
  jwt: string,
  orgname: string,
  username: string,
): Promise<void> {
  const wanted = orgname.toLowerCase();
  let url: string | null = `${base}/v2/user/orgs/?page_size=${ORGS_PAGE_SIZE}&page=1`;
  for (let page = 1; url !== null && page <= MAX_ORG_PAGES; page++) {
    const res = await send(ctx, url, { method: 'GET', headers: { authorization: `Bearer ${jwt}` } });
    if (res.status !== 200) {
      const body = dockerError(res);
      const text = body?.message || body?.detail;
      if (res.status === 401) throw sessionRejected(res, text);
      if (res.status === 403) {
        throw denied(
          orgname,
          username,
          `cannot be confirmed: the token may not list organization memberships (${describe(res, text)})`,
        );
      }
      throw commonError(res, ctx.now(), 'organization membership listing', text);
    }
    const body = decode(res, UserOrgsPage);
    if (body.results.some((o) => o.orgname.toLowerCase() === wanted)) return;
    url = body.next ? nextPage(base, body.next) : null;
  }
  if (url !== null) {
    throw denied(
      orgname,
      username,
      `is not among the first ${MAX_ORG_PAGES * ORGS_PAGE_SIZE} organizations "${username}" belongs to`,
    );
  }
  throw denied(orgname, username, `is an organization "${username}" is not a member of`);
}

/** Follow Django's `next` only within the configured Hub, so the session token never goes elsewhere. */
function nextPage(base: string, next: string): string {
  const baseUrl = new URL(base);
  let resolved: URL;
  try {
    resolved = new URL(next, `${base}/`);
  } catch {
    resolved = new URL('invalid:');
  }
  const prefix = `${baseUrl.pathname.replace(/\/+$/, '')}/v2/user/orgs`;
  if (resolved.origin !== baseUrl.origin || !resolved.pathname.startsWith(prefix)) {
    throw new ProviderError(
      'upstream_unavailable',
      UPSTREAM,
      `Docker Hub's paging link for organization memberships points outside ${baseUrl.origin}; refusing to follow it. Check the Docker Hub URL configuration.`,
    );
  }
  return resolved.href;
}

async function send(
  ctx: ProviderContext,
  url: string,
  req: { method: 'GET' | 'POST'; json?: unknown; headers?: Record<string, string> },
): Promise<HttpResponse> {
  return ctx.http.request(UPSTREAM, url, { ...req, ...(ctx.signal ? { signal: ctx.signal } : {}) });
}

function decode<T extends z.ZodType>(res: HttpResponse, schema: T): z.infer<T> {
  return decodeJson(UPSTREAM, res, schema, {
    hint: 'Check the Docker Hub URL configuration, or try again later.',
  });
}
