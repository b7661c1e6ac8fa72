import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import {
  type FakeReply,
  type FakeRequest,
  type RunningFake,
  type SlowOrBrokenKnobs,
  slowOrBroken,
  startFakeServer,
} from '../testing/fake-server';
import type { TokenRole, WhoAmIV2Body } from './schemas';

/** A whoami-v2 body as served: what the provider parses, plus the fields it ignores. */
export type HfWhoAmIBody = WhoAmIV2Body & { [extra: string]: unknown };

export interface HfProfileOptions {
  name: string;
  type?: 'user' | 'org';
  email?: string | null;
  fullname?: string;
  orgs?: (string | { name: string; roleInOrg?: string })[];
  tokenName?: string;
  role?: TokenRole;
  /** Only used with role `fineGrained`. */
  fineGrained?: {
    scoped?: { entity: { type: string; name: string }; permissions: string[] }[];
    global?: string[];
    canReadGatedRepos?: boolean;
  };
  /** ISO date; omitted when the token never expires. */
  expiration?: string;
}

/** Builds a realistic whoami-v2 body (upstreams.md §1). */
export function hfProfile(o: HfProfileOptions): HfWhoAmIBody {
  const role = o.role ?? 'read';
  const hex = () => randomBytes(12).toString('hex');
  const body: HfWhoAmIBody = {
    type: o.type ?? 'user',
    id: hex(),
    name: o.name,
    fullname: o.fullname ?? o.name,
    email: o.email === undefined ? `${o.name}@example.com` : o.email,
    emailVerified: true,
    canPay: false,
    periodEnd: null,
    isPro: false,
    avatarUrl: `/avatars/${hex()}.svg`,
    orgs: (o.orgs ?? []).map((org) => {
      const { name, roleInOrg } = typeof org === 'string' ? { name: org, roleInOrg: 'read' } : org;
      return {
        type: 'org',
        id: hex(),
        name,
        fullname: name,
        email: null,
        canPay: false,
        avatarUrl: `https://cdn-avatars.example/${name}.png`,
        periodEnd: null,
        roleInOrg: roleInOrg ?? 'read',
      };
    }),
    auth: {
      type: 'access_token',
      accessToken: {
        displayName: o.tokenName ?? 'platform-token',
        role,
        ...(role === 'fineGrained'
          ? {
              fineGrained: {
                canReadGatedRepos: o.fineGrained?.canReadGatedRepos ?? true,
                global: o.fineGrained?.global ?? [],
                scoped: o.fineGrained?.scoped ?? [],
              },
            }
          : {}),
        ...(o.expiration !== undefined ? { expiration: o.expiration } : {}),
      },
    },
  };
  return body;
}

export const HF_UNAUTHORIZED_BODIES = {
  invalid_password: { error: 'Invalid username or password.' },
  invalid_header: { error: 'Invalid credentials in Authorization header' },
} as const;

export interface HuggingFaceFakeKnobs extends SlowOrBrokenKnobs {
  /** Every token is answered with 401, even a registered one. */
  failWith401: boolean;
  /** Which observed 401 body to send for an unknown or failed token. */
  unauthorizedBody: keyof typeof HF_UNAUTHORIZED_BODIES;
  /** Answer every request with this status and an `{error}` body (e.g. 500, 503, 403). */
  status: number | null;
  /** Answer 429 with `Retry-After`. */
  rateLimit: { retryAfterSeconds: number } | null;
  /** 200 with a truncated JSON body. */
  malformedBody: boolean;
  /** 200 with a valid JSON body larger than the client's 1 MiB limit. */
  oversizedBody: boolean;
  /** When set, error answers also carry `X-Error-Message` with this text. */
  errorMessageHeader: string | null;
}

export interface HuggingFaceFakeOptions {
  tokens?: Record<string, HfWhoAmIBody>;
  knobs?: Partial<HuggingFaceFakeKnobs>;
}

export interface HuggingFaceFake {
  url: string;
  close(): Promise<void>;
  requests: FakeRequest[];
  /** Valid tokens → the whoami-v2 body each one answers. */
  tokens: Map<string, HfWhoAmIBody>;
  knobs: HuggingFaceFakeKnobs;
  addToken(token: string, profile: HfWhoAmIBody): void;
  /** Put every knob back to its default. */
  reset(): void;
}

const DEFAULT_KNOBS: HuggingFaceFakeKnobs = {
  failWith401: false,
  unauthorizedBody: 'invalid_password',
  status: null,
  rateLimit: null,
  delayMs: 0,
  malformedBody: false,
  oversizedBody: false,
  errorMessageHeader: null,
  fault: null,
};

const OVERSIZED_BYTES = 1024 * 1024 + 512 * 1024;

/** Loopback fake of the Hugging Face Hub's `GET /api/whoami-v2`. */
export async function startHuggingFaceFake(opts: HuggingFaceFakeOptions = {}): Promise<HuggingFaceFake> {
  const tokens = new Map<string, HfWhoAmIBody>(Object.entries(opts.tokens ?? {}));
  const knobs: HuggingFaceFakeKnobs = { ...DEFAULT_KNOBS, ...opts.knobs };

  const handle = (req: FakeRequest): FakeReply => {
    const fail = (status: number, body: object, headers: Record<string, string> = {}): FakeReply => ({
      status,
      body,
      headers: { ...headers, ...(knobs.errorMessageHeader ? { 'x-error-message': knobs.errorMessageHeader } : {}) },
    });
    if (req.path !== '/api/whoami-v2') {
      return fail(404, { error: "Sorry, we can't find the page you are looking for." });
    }
    if (req.method !== 'GET') return fail(405, { error: 'Method not allowed' });
    if (knobs.rateLimit) {
      return fail(
        429,
        { error: 'You have exceeded the rate limit for /api/whoami-v2. Retry later.' },
        { 'retry-after': String(knobs.rateLimit.retryAfterSeconds) },
      );
    }
    if (knobs.status !== null) {
      return fail(knobs.status, {
        error:
          knobs.status >= 500
            ? "Internal Error - We're working hard to fix this as soon as possible!"
            : (STATUS_CODES[knobs.status] ?? 'Error'),
      });
    }
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
    if (!m?.[1]) return fail(401, HF_UNAUTHORIZED_BODIES.invalid_header);
    const profile = tokens.get(m[1]);
    if (knobs.failWith401 || !profile) return fail(401, HF_UNAUTHORIZED_BODIES[knobs.unauthorizedBody]);
    if (knobs.malformedBody) {
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(profile).slice(0, 40),
      };
    }
    if (knobs.oversizedBody) {
      return { status: 200, body: { ...profile, padding: 'x'.repeat(OVERSIZED_BYTES) } };
    }
    return { status: 200, body: profile };
  };

  const server: RunningFake = await startFakeServer((req) => {
    const reply = handle(req);
    return {
      ...reply,
      ...slowOrBroken(knobs),
    };
  });
  return {
    url: server.url,
    close: () => server.close(),
    requests: server.requests,
    tokens,
    knobs,
    addToken: (token, profile) => {
      tokens.set(token, profile);
    },
    reset: () => {
      Object.assign(knobs, DEFAULT_KNOBS);
    },
  };
}
