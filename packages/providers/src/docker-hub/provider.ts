import { DockerHubConnectInput, DockerHubSecret, ProviderError } from '@alphaswarm/contracts';
import type { z } from 'zod';
import { decodeJson, type HttpResponse, retryAfterSeconds } from '../http';
import { parseConnectInput } from '../shared/input';
import { guardSecrets, readStoredSecret } from '../shared/secrets';
import { clip } from '../shared/text';
import type { HealthResult, LinkDraft, PatProvider, ProviderContext, StoredLink } from '../types';
import {
  AuthTokenResponse,
  DockerErrorBody,
  type DockerHubLinkMetadata,
  OrgProfile,
  TWO_FACTOR_DETAIL,
  UserOrgsPage,
  UserProfile,
  UsersLoginResponse,
} from './schemas';

const UPSTREAM = 'Docker Hub';
const ORGS_PAGE_SIZE = 100;
const MAX_ORG_PAGES = 20;
const PAT_PLACE = 'Docker Hub (Account settings → Personal access tokens)';
// Starts with a letter or digit, so "." and ".." can never become path segments of a lookup URL.
const NAMESPACE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export const dockerHubProvider: PatProvider<'docker_hub', DockerHubConnectInput, DockerHubSecret> = {
  kind: 'docker_hub',
  family: 'pat',
  upstream: UPSTREAM,
  connectInputSchema: DockerHubConnectInput,
  secretSchema: DockerHubSecret,

  async validate(ctx, rawInput): Promise<LinkDraft<DockerHubSecret>> {
    const input = parseInput(rawInput);
    const secrets = [input.pat];
    return guardSecrets(secrets, async () => {
      const found = await probe(ctx, input.username, input.pat, input.namespace ?? input.username, secrets);
      return {
        namespace: found.namespace,
        metadata: found.metadata,
        secret: { username: input.username, pat: input.pat },
        status: 'healthy',
        error: null,
        warnings: [],
        expires_at: null,
      };
    });
  },

  async checkHealth(ctx, link): Promise<HealthResult> {
    const { username, pat } = readSecret(link);
    const secrets = [pat];
    return guardSecrets(secrets, async () => {
      const found = await probe(ctx, username, pat, link.namespace, secrets);
      return { status: 'healthy', error: null, metadata: found.metadata, expires_at: null };
    });
  },

  async issueCredentials(_ctx, link) {
    const { username, pat } = readSecret(link);
    return { kind: 'docker_hub', username, pat, namespace: link.namespace };
  },
};

function parseInput(raw: unknown): DockerHubConnectInput {
  const input = parseConnectInput(DockerHubConnectInput, raw, UPSTREAM);
  const namespace = input.namespace ?? input.username;
  if (!NAMESPACE_RE.test(namespace)) {
    throw new ProviderError(
      'invalid_request',
      UPSTREAM,
      `"${clip(namespace)}" is not a valid Docker Hub namespace: use the user or organization name (letters, digits, ".", "_", "-").`,
      { field: input.namespace === undefined ? 'username' : 'namespace' },
    );
  }
  return input;
}

function readSecret(link: StoredLink<DockerHubSecret>): DockerHubSecret {
  return readStoredSecret(
    DockerHubSecret,
    link.secret,
    UPSTREAM,
    `Create a personal access token on ${PAT_PLACE} and connect again.`,
  );
}

interface Found {
  namespace: string;
  metadata: DockerHubLinkMetadata;
}

async function probe(
  ctx: ProviderContext,
  username: string,
  pat: string,
  namespace: string,
  secrets: string[],
): Promise<Found> {
  const base = ctx.upstreams.dockerHubUrl.replace(/\/+$/, '');
  const jwt = await login(ctx, base, username, pat);
  secrets.push(jwt);

  if (namespace.toLowerCase() === username.toLowerCase()) {
    const user = await lookup(ctx, `${base}/v2/users/${encodeURIComponent(namespace)}/`, jwt, UserProfile, namespace);
    if (user.type === 'Org') throw denied(namespace, username, 'is an organization, not your user account');
    return {
      namespace: user.username,
      metadata: { username, namespace_type: 'user', full_name: user.full_name || null, token_expires_at: null },
    };
  }

  const org = await lookup(ctx, `${base}/v2/orgs/${encodeURIComponent(namespace)}`, jwt, OrgProfile, namespace);
  await requireMembership(ctx, base, jwt, org.orgname, username);
  return {
    namespace: org.orgname,
    metadata: { username, namespace_type: 'org', full_name: org.full_name || null, token_expires_at: null },
  };
}

/** Mint a short-lived JWT: the newer route first, the deprecated one where the newer is absent. */
async function login(ctx: ProviderContext, base: string, username: string, pat: string): Promise<string> {
  const res = await send(ctx, `${base}/v2/auth/token`, { method: 'POST', json: { identifier: username, secret: pat } });
  if (res.status === 404 || res.status === 405) {
    const legacy = await send(ctx, `${base}/v2/users/login`, { method: 'POST', json: { username, password: pat } });
    if (legacy.status !== 200) throw loginError(legacy, ctx.now());
    return decode(legacy, UsersLoginResponse).token;
  }
  if (res.status !== 200) throw loginError(res, ctx.now());
  return decode(res, AuthTokenResponse).access_token;
}

function loginError(res: HttpResponse, now: Date): ProviderError {
  const body = errorBody(res);
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

async function lookup<T extends z.ZodType>(
  ctx: ProviderContext,
  url: string,
  jwt: string,
  schema: T,
  namespace: string,
): Promise<z.infer<T>> {
  const res = await send(ctx, url, { method: 'GET', headers: { authorization: `Bearer ${jwt}` } });
  if (res.status === 200) return decode(res, schema);
  const body = errorBody(res);
  const text = body?.message || body?.detail;
  if (res.status === 404) throw denied(namespace, undefined, `was not found (${describe(res, text)})`);
  if (res.status === 403)
    throw denied(namespace, undefined, `is not accessible with this token (${describe(res, text)})`);
  if (res.status === 401) throw sessionRejected(res, text);
  throw commonError(res, ctx.now(), 'namespace lookup', text);
}

async function requireMembership(
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
      const body = errorBody(res);
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

function denied(namespace: string, username: string | undefined, why: string): ProviderError {
  return new ProviderError(
    'namespace_denied',
    UPSTREAM,
    `Docker Hub namespace "${clip(namespace)}" ${why}. Use your own username${username ? ` ("${clip(username)}")` : ''} or an organization this account is a member of.`,
    { field: 'namespace' },
  );
}

function sessionRejected(res: HttpResponse, text: string | undefined): ProviderError {
  return new ProviderError(
    'credential_rejected',
    UPSTREAM,
    `Docker Hub rejected the session minted from this personal access token (${describe(res, text)}). Create a new personal access token on ${PAT_PLACE} and connect again.`,
    { status: res.status },
  );
}

function commonError(res: HttpResponse, now: Date, what: string, text: string | undefined): ProviderError {
  const status = res.status;
  if (status === 429) {
    const retry = retryAfterSeconds(res.headers, now) ?? resetSeconds(res.headers, now);
    return new ProviderError(
      'rate_limited',
      UPSTREAM,
      `Docker Hub is rate-limiting API calls (${describe(res, text)}). Try again ${retry !== undefined ? `in ${retry} s` : 'in a minute'}.`,
      { status, ...(retry !== undefined ? { retryAfterSeconds: retry } : {}) },
    );
  }
  if (status >= 500) {
    return new ProviderError(
      'upstream_unavailable',
      UPSTREAM,
      `Docker Hub is unavailable (${describe(res, text)}). Try again later.`,
      {
        status,
      },
    );
  }
  return new ProviderError(
    'upstream_unavailable',
    UPSTREAM,
    `Docker Hub answered the ${what} unexpectedly (${describe(res, text)}). Check the Docker Hub URL configuration.`,
    { status },
  );
}

/** Without a retry header, the window reset (`X-RateLimit-Reset`, unix seconds) still tells when to come back. */
function resetSeconds(headers: Record<string, string>, now: Date): number | undefined {
  const raw = headers['x-ratelimit-reset'];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return Math.max(0, Number(raw.trim()) - Math.floor(now.getTime() / 1000));
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

function errorBody(res: HttpResponse): z.infer<typeof DockerErrorBody> | undefined {
  try {
    const parsed = DockerErrorBody.safeParse(JSON.parse(res.body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function describe(res: HttpResponse, text: string | undefined): string {
  const t = text ? clip(text) : '';
  return `HTTP ${res.status}${t ? `: ${t}` : ''}`;
}
