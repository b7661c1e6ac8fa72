import { randomBytes, randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { z } from 'zod';
import {
  bearerToken,
  type FakeReply,
  type FakeRequest,
  type RunningFake,
  type SlowOrBrokenKnobs,
  slowOrBroken,
  startFakeServer,
} from '../testing/fake-server';
import {
  type AuthTokenResponse,
  type DockerErrorBody,
  type OrgProfile,
  TWO_FACTOR_DETAIL,
  type UserOrgsPage,
  type UserProfile,
  type UsersLoginResponse,
} from './schemas';

export interface DockerHubFakeUser {
  username: string;
  /** Valid personal access tokens (any string; real ones look like `dckr_pat_...`). */
  pats: string[];
  /** The account password; with `twoFactor` a login with it answers the 2FA challenge. */
  password?: string;
  twoFactor?: boolean;
  fullName?: string;
}

export interface DockerHubFakeOrg {
  orgname: string;
  fullName?: string;
  /** Usernames. */
  members: string[];
}

export interface DockerHubFakeKnobs extends SlowOrBrokenKnobs {
  /** Login routes answer 401 "Incorrect authentication credentials" whatever the credential. */
  failWith401: boolean;
  /** `/v2/users/{name}/` and `/v2/orgs/{name}` answer 404 whatever the name. */
  namespace404: boolean;
  /** 429 with both `Retry-After` (seconds) and `X-Retry-After` (unix ts). */
  rateLimit: { retryAfterSeconds: number } | null;
  /** Answer with this status and a `{detail, message}` body (e.g. 500). */
  status: number | null;
  /** 200 with a truncated JSON body. */
  malformedBody: boolean;
  /** 200 with a valid JSON body larger than the client's 1 MiB limit. */
  oversizedBody: boolean;
  /** Which routes `rateLimit`, `status`, `delayMs`, `malformedBody`, `oversizedBody` and `fault` hit. */
  faultOn: 'all' | 'login' | 'lookups';
  /** `POST /v2/auth/token` present, or answering 404/405 like a Hub without the newer route. */
  authTokenRoute: 'available' | 404 | 405;
  /** `page_size` of `/v2/user/orgs/` when the request gives none (capped at 100 like the Hub). */
  defaultPageSize: number;
  /** Origin written into `next` links instead of the fake's own (to play a hostile or misconfigured Hub). */
  nextOrigin: string | null;
  /** Lookups answer 401 quoting the session token they were sent (a Hub that echoes credentials). */
  echoSession: boolean;
}

export interface DockerHubFakeOptions {
  users?: DockerHubFakeUser[];
  orgs?: DockerHubFakeOrg[];
  knobs?: Partial<DockerHubFakeKnobs>;
  /** `X-RateLimit-Limit`; past it in one minute the fake answers 429 on its own. */
  rateLimitPerMinute?: number;
}

export interface DockerHubFake {
  url: string;
  close(): Promise<void>;
  requests: FakeRequest[];
  /** Keyed by lower-cased username / org name. */
  users: Map<string, DockerHubFakeUser>;
  orgs: Map<string, DockerHubFakeOrg>;
  /** Access tokens issued by the login routes → who they belong to. */
  accessTokens: Map<string, { username: string; expiresAt: number }>;
  knobs: DockerHubFakeKnobs;
  addUser(user: DockerHubFakeUser): void;
  addOrg(org: DockerHubFakeOrg): void;
  reset(): void;
}

const DEFAULT_KNOBS: DockerHubFakeKnobs = {
  failWith401: false,
  namespace404: false,
  rateLimit: null,
  status: null,
  delayMs: 0,
  malformedBody: false,
  oversizedBody: false,
  fault: null,
  faultOn: 'all',
  authTokenRoute: 'available',
  defaultPageSize: 10,
  nextOrigin: null,
  echoSession: false,
};

const INCORRECT = 'Incorrect authentication credentials';
const ACCESS_TOKEN_TTL_MS = 10 * 60_000;
const OVERSIZED_BYTES = 1024 * 1024 + 512 * 1024;

// Bodies the fake serves, checked against the schemas the provider parses them with.
type Served<T extends z.ZodType> = z.input<T> & { [extra: string]: unknown };
type ErrorBody = Served<typeof DockerErrorBody> & { errinfo?: Record<string, unknown> };

/** Loopback fake of the Docker Hub API v2 routes the provider uses (upstreams.md §2). */
export async function startDockerHubFake(opts: DockerHubFakeOptions = {}): Promise<DockerHubFake> {
  const users = new Map<string, DockerHubFakeUser>();
  const orgs = new Map<string, DockerHubFakeOrg>();
  const accessTokens = new Map<string, { username: string; expiresAt: number }>();
  const knobs: DockerHubFakeKnobs = { ...DEFAULT_KNOBS, ...opts.knobs };
  const limit = opts.rateLimitPerMinute ?? 600;
  const window = { start: 0, used: 0 };
  let selfUrl = '';

  for (const u of opts.users ?? []) users.set(u.username.toLowerCase(), u);
  for (const o of opts.orgs ?? []) orgs.set(o.orgname.toLowerCase(), o);

  const mint = (username: string): string => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const exp = Date.now() + ACCESS_TOKEN_TTL_MS;
    const jwt = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ sub: randomUUID(), username, exp: Math.floor(exp / 1000), jti: randomUUID() })}.${randomBytes(32).toString('base64url')}`;
    accessTokens.set(jwt, { username, expiresAt: exp });
    return jwt;
  };

  const err = (status: number, detail: string, message = detail): FakeReply => {
    const body: ErrorBody = { detail, message };
    return { status, body };
  };

  const json = (req: FakeRequest): Record<string, unknown> | null => {
    try {
      const v: unknown = JSON.parse(req.body);
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };

  /** Shared by both login routes: PAT → token; 2FA password → challenge; anything else → 401. */
  const authenticate = (identifier: unknown, secret: unknown): { username: string } | FakeReply => {
    if (knobs.failWith401) return err(401, INCORRECT);
    const user = typeof identifier === 'string' ? users.get(identifier.toLowerCase()) : undefined;
    if (!user || typeof secret !== 'string') return err(401, INCORRECT);
    if (user.pats.includes(secret)) return { username: user.username };
    if (user.password !== undefined && secret === user.password) {
      if (!user.twoFactor) return { username: user.username };
      const challenge: ErrorBody = { detail: TWO_FACTOR_DETAIL, login_2fa_token: mint(`2fa:${user.username}`) };
      return { status: 401, body: challenge };
    }
    return err(401, INCORRECT);
  };

  const whoFor = (req: FakeRequest): string | FakeReply => {
    const token = bearerToken(req);
    if (!token) return err(401, 'Authentication credentials were not provided.');
    const entry = accessTokens.get(token);
    if (!entry || entry.username.startsWith('2fa:')) return err(401, 'Invalid token.');
    if (entry.expiresAt < Date.now()) return err(401, 'Token has expired.');
    return entry.username;
  };

  const userBody = (u: DockerHubFakeUser): Served<typeof UserProfile> => ({
    id: randomUUID().replaceAll('-', ''),
    username: u.username,
    full_name: u.fullName ?? '',
    location: '',
    company: '',
    profile_url: '',
    date_joined: '2021-01-05T21:06:53.506400Z',
    gravatar_url: '',
    gravatar_email: '',
    type: 'User',
  });

  const orgBody = (o: DockerHubFakeOrg): Served<typeof OrgProfile> => ({
    id: randomUUID().replaceAll('-', ''),
    orgname: o.orgname,
    full_name: o.fullName ?? '',
    location: '',
    company: '',
    gravatar_email: '',
    gravatar_url: '',
    profile_url: '',
    date_joined: '2022-03-01T10:00:00.000000Z',
    type: 'Org',
  });

  const route = (req: FakeRequest): FakeReply => {
    const p = req.path;
    if (p === '/v2/auth/token') {
      if (knobs.authTokenRoute === 404) return err(404, 'Not Found', 'not found');
      if (knobs.authTokenRoute === 405) return err(405, 'Method "POST" not allowed.');
      if (req.method !== 'POST') return err(405, `Method "${req.method}" not allowed.`);
      const b = json(req);
      if (!b) return err(400, 'invalid request body');
      const who = authenticate(b.identifier, b.secret);
      if ('status' in who) {
        // The newer route answers with the `error` schema, `errinfo` included.
        const body = { errinfo: {}, ...(who.body as object) };
        return { ...who, body };
      }
      const ok: Served<typeof AuthTokenResponse> = { access_token: mint(who.username) };
      return { status: 200, body: ok };
    }
    if (p === '/v2/users/login' || p === '/v2/users/login/') {
      if (req.method !== 'POST') return err(405, `Method "${req.method}" not allowed.`);
      const b = json(req);
      if (!b) return err(400, 'invalid request body');
      const who = authenticate(b.username, b.password);
      if ('status' in who) {
        const { detail, login_2fa_token } = who.body as ErrorBody;
        return { status: who.status, body: login_2fa_token ? { detail, login_2fa_token } : { detail } };
      }
      const ok: Served<typeof UsersLoginResponse> = {
        token: mint(who.username),
        ...(req.query.get('refresh_token') === 'true' ? { refresh_token: randomBytes(24).toString('base64url') } : {}),
      };
      return { status: 200, body: ok };
    }

    if (req.method !== 'GET') return err(405, `Method "${req.method}" not allowed.`);
    if (knobs.echoSession) return err(401, `Token ${bearerToken(req) ?? ''} is not valid for ${p}`);
    const who = whoFor(req);
    if (typeof who !== 'string') return who;

    if (p === '/v2/user' || p === '/v2/user/') {
      const u = users.get(who.toLowerCase());
      return u ? { status: 200, body: userBody(u) } : err(404, 'Not Found', 'user not found');
    }
    if (p === '/v2/user/orgs' || p === '/v2/user/orgs/') {
      const mine = [...orgs.values()].filter((o) => o.members.some((m) => m.toLowerCase() === who.toLowerCase()));
      const size = Math.min(100, Math.max(1, Number(req.query.get('page_size')) || knobs.defaultPageSize));
      const page = Math.max(1, Math.floor(Number(req.query.get('page')) || 1));
      const pages = Math.max(1, Math.ceil(mine.length / size));
      if (page > pages) return err(404, 'Invalid page.');
      const link = (n: number) => `${knobs.nextOrigin ?? selfUrl}/v2/user/orgs/?page=${n}&page_size=${size}`;
      const body: Served<typeof UserOrgsPage> = {
        count: mine.length,
        next: page < pages ? link(page + 1) : null,
        previous: page > 1 ? link(page - 1) : null,
        results: mine.slice((page - 1) * size, page * size).map(orgBody),
      };
      return { status: 200, body };
    }
    const userMatch = /^\/v2\/users\/([^/]+)\/?$/.exec(p);
    if (userMatch?.[1]) {
      const u = users.get(decodeURIComponent(userMatch[1]).toLowerCase());
      if (knobs.namespace404 || !u) return err(404, 'Not Found', 'object not found');
      return { status: 200, body: userBody(u) };
    }
    const orgMatch = /^\/v2\/orgs\/([^/]+)\/?$/.exec(p);
    if (orgMatch?.[1]) {
      const o = orgs.get(decodeURIComponent(orgMatch[1]).toLowerCase());
      if (knobs.namespace404 || !o) return err(404, 'Not Found', 'object not found');
      return { status: 200, body: orgBody(o) };
    }
    return err(404, 'Not Found', 'not found');
  };

  const isLogin = (p: string) => p === '/v2/auth/token' || p.startsWith('/v2/users/login');

  const handle = (req: FakeRequest): FakeReply => {
    const now = Date.now();
    if (now - window.start >= 60_000) {
      window.start = now - (now % 60_000);
      window.used = 0;
    }
    window.used++;
    const resetAt = Math.floor((window.start + 60_000) / 1000);
    const rate = {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - window.used)),
      'x-ratelimit-reset': String(resetAt),
    };
    const faulty = knobs.faultOn === 'all' || (knobs.faultOn === 'login') === isLogin(req.path);
    let reply: FakeReply;
    if (faulty && knobs.rateLimit) {
      const s = knobs.rateLimit.retryAfterSeconds;
      reply = {
        ...err(429, 'Rate limit exceeded'),
        headers: { 'retry-after': String(s), 'x-retry-after': String(Math.floor(now / 1000) + s) },
      };
    } else if (window.used > limit) {
      const s = Math.max(1, resetAt - Math.floor(now / 1000));
      reply = {
        ...err(429, 'Rate limit exceeded'),
        headers: { 'retry-after': String(s), 'x-retry-after': String(resetAt) },
      };
    } else if (faulty && knobs.status !== null) {
      reply =
        knobs.status >= 500
          ? err(knobs.status, 'Internal Server Error', 'internal server error')
          : err(knobs.status, STATUS_CODES[knobs.status] ?? 'Error');
    } else {
      reply = route(req);
      if (faulty && reply.status === 200 && knobs.malformedBody) {
        reply = {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(reply.body).slice(0, 30),
        };
      } else if (faulty && reply.status === 200 && knobs.oversizedBody) {
        reply = { status: 200, body: { ...(reply.body as object), padding: 'x'.repeat(OVERSIZED_BYTES) } };
      }
    }
    return {
      ...reply,
      headers: { ...reply.headers, ...rate },
      ...(faulty ? slowOrBroken(knobs) : {}),
    };
  };

  const server: RunningFake = await startFakeServer(handle);
  selfUrl = server.url;
  return {
    url: server.url,
    close: () => server.close(),
    requests: server.requests,
    users,
    orgs,
    accessTokens,
    knobs,
    addUser: (u) => {
      users.set(u.username.toLowerCase(), u);
    },
    addOrg: (o) => {
      orgs.set(o.orgname.toLowerCase(), o);
    },
    reset: () => {
      Object.assign(knobs, DEFAULT_KNOBS);
    },
  };
}
