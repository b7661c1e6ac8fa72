import { randomBytes } from 'node:crypto';
import {
  bearerToken,
  type FakeReply,
  type FakeRequest,
  type RouteKnob,
  type RunningFake,
  type SlowOrBrokenKnobs,
  selected,
  slowOrBroken,
  startFakeServer,
} from '../testing/fake-server';
import { type Trust, verifySubjectToken } from '../testing/subject-token';
import { CLOUD_PLATFORM_SCOPE, gcpAudience, JWT_TOKEN_TYPE } from './schemas';

/**
 * A loopback stand-in for Google STS (`/v1/token`), IAM Credentials (`generateAccessToken`)
 * and Cloud Resource Manager (testIamPermissions, v3 projects:search) on one server
 * (upstreams.md §5). Subject tokens are really verified against the registered provider's
 * trust: our issuer's discovery document and JWKS over HTTP.
 */

export type GcpFakeEndpoint = 'sts' | 'iamcredentials' | 'crm';

export interface GcpFakeServiceAccount {
  /** Project permissions the account holds (on every registered project). */
  permissions: string[];
  /** Subjects granted roles/iam.workloadIdentityUser on the account; defaults to the provider's trusted subject. */
  boundSubjects?: string[];
}

export interface GcpFakeProvider {
  /** projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider> */
  name: string;
  /** issuer_uri, the subject the attribute condition admits, and (optionally) a non-default allowed audience. */
  trust: Omit<Trust, 'audience'> & { audience?: string };
  serviceAccounts: Record<string, GcpFakeServiceAccount>;
}

export interface GcpFakeProject {
  projectId: string;
  /** `projects/<number>`; generated when absent. */
  name?: string;
  displayName?: string;
  state?: 'ACTIVE' | 'DELETE_REQUESTED';
  parent?: string;
}

export interface GcpFakeKnobs extends SlowOrBrokenKnobs {
  /** Endpoints answering 429 RESOURCE_EXHAUSTED (`true` = all). */
  throttle: RouteKnob<GcpFakeEndpoint>;
  /** Endpoints answering 503 UNAVAILABLE (`true` = all). */
  serverError: RouteKnob<GcpFakeEndpoint>;
  /** Projects per projects:search page (also bounded by the request's pageSize). */
  pageSize: number;
}

interface StsSession {
  provider: string;
  subject: string;
  expiresAt: number;
}

interface SaSession {
  email: string;
  provider: string;
  expiresAt: number;
}

export interface GcpFake extends RunningFake {
  knobs: GcpFakeKnobs;
  addProvider(provider: GcpFakeProvider): void;
  addProjects(projects: GcpFakeProject[]): void;
  /** Replace a service account's project permissions. */
  setPermissions(provider: string, email: string, permissions: string[]): void;
  /** Access tokens handed out by generateAccessToken, by token. */
  accessTokens: Map<string, SaSession>;
  /** Ready for `ctx.upstreams.gcp`. */
  upstream(): { stsEndpoint: string; iamCredentialsEndpoint: string; crmEndpoint: string };
}

function googleError(status: number, grpc: string, message: string): FakeReply {
  return { status, body: { error: { code: status, message, status: grpc } } };
}

function oauthError(error: string, description: string, status = 400): FakeReply {
  return {
    status,
    body: { error, error_description: description, error_uri: 'https://tools.ietf.org/html/rfc6749#section-5.2' },
  };
}

function jsonBody(req: FakeRequest): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(req.body || '{}') as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export async function startGcpFake(): Promise<GcpFake> {
  const providers = new Map<string, GcpFakeProvider>();
  const projects: (Required<Omit<GcpFakeProject, 'parent'>> & { parent?: string })[] = [];
  const stsTokens = new Map<string, StsSession>();
  const accessTokens = new Map<string, SaSession>();
  const knobs: GcpFakeKnobs = { throttle: false, serverError: false, delayMs: 0, pageSize: 2, fault: null };

  const sts = async (req: FakeRequest): Promise<FakeReply> => {
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return oauthError('invalid_request', 'Request must be application/x-www-form-urlencoded.');
    }
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange') {
      return oauthError('unsupported_grant_type', `Unsupported grant_type: ${form.get('grant_type') ?? ''}`);
    }
    if (form.get('subject_token_type') !== JWT_TOKEN_TYPE) {
      return oauthError('invalid_request', 'Invalid value for "subject_token_type".');
    }
    if (form.get('requested_token_type') !== 'urn:ietf:params:oauth:token-type:access_token') {
      return oauthError('invalid_request', 'Invalid value for "requested_token_type".');
    }
    if (!(form.get('scope') ?? '').split(' ').includes(CLOUD_PLATFORM_SCOPE)) {
      return oauthError('invalid_scope', 'The requested scope is not allowed.');
    }
    const audience = form.get('audience') ?? '';
    const name = audience.replace(/^(\/\/|https:\/\/)iam\.googleapis\.com\//, '');
    const provider = providers.get(name);
    if (!provider) {
      return oauthError(
        'invalid_target',
        'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.',
      );
    }
    const expectedAudience = provider.trust.audience ?? gcpAudience(provider.name);
    const verdict = await verifySubjectToken(form.get('subject_token') ?? '', {
      ...provider.trust,
      audience: expectedAudience,
    });
    if (!verdict.ok) {
      switch (verdict.failure) {
        case 'malformed':
          return oauthError('invalid_grant', 'Invalid JWT: the subject token is not a well-formed JWT.');
        case 'untrusted_issuer':
          if (verdict.claims?.iss !== undefined && verdict.claims.iss !== provider.trust.issuer) {
            return oauthError(
              'invalid_grant',
              `The issuer in ID Token ${String(verdict.claims.iss)} does not match the expected ones: ${provider.trust.issuer}.`,
            );
          }
          return oauthError(
            'invalid_grant',
            `Unable to retrieve the public keys of the issuer ${provider.trust.issuer}.`,
          );
        case 'bad_signature':
          return oauthError(
            'invalid_grant',
            "Invalid JWT signature: the ID Token could not be verified with the issuer's keys.",
          );
        case 'expired':
          return oauthError('invalid_grant', 'ID Token has expired.');
        case 'wrong_audience':
          return oauthError(
            'invalid_grant',
            `The audience in ID Token [${verdict.detail ?? ''}] does not match the expected audience ${expectedAudience}.`,
          );
        default: // wrong_subject
          return oauthError('unauthorized_client', 'The given credential is rejected by the attribute condition.');
      }
    }
    const token = `ya29.d.${randomBytes(24).toString('base64url')}`;
    stsTokens.set(token, {
      provider: provider.name,
      subject: String(verdict.claims?.sub),
      expiresAt: Date.now() + 3600_000,
    });
    return {
      status: 200,
      body: {
        access_token: token,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 3600,
      },
    };
  };

  const generateAccessToken = (req: FakeRequest, email: string): FakeReply => {
    const session = stsTokens.get(bearerToken(req) ?? '');
    if (!session || session.expiresAt <= Date.now()) {
      return googleError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
    const provider = providers.get(session.provider)!;
    const account = provider.serviceAccounts[email];
    const bound = account?.boundSubjects ?? [provider.trust.subject];
    if (!account || !bound.includes(session.subject)) {
      return googleError(
        403,
        'PERMISSION_DENIED',
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
      );
    }
    const body = jsonBody(req);
    const scope = body?.scope;
    if (!Array.isArray(scope) || !scope.includes(CLOUD_PLATFORM_SCOPE)) {
      return googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
    }
    const lifetime = body?.lifetime === undefined ? 3600 : Number(/^(\d+)s$/.exec(String(body.lifetime))?.[1] ?? NaN);
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 3600) {
      return googleError(400, 'INVALID_ARGUMENT', 'The lifetime must be between 1s and 3600s.');
    }
    const token = `ya29.c.${randomBytes(32).toString('base64url')}`;
    const expiresAt = Date.now() + lifetime * 1000;
    accessTokens.set(token, { email, provider: provider.name, expiresAt });
    return {
      status: 200,
      body: { accessToken: token, expireTime: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z') },
    };
  };

  /** The service account behind a CRM call, or the error Google answers. */
  const caller = (req: FakeRequest): GcpFakeServiceAccount | FakeReply => {
    const session = accessTokens.get(bearerToken(req) ?? '');
    if (!session || session.expiresAt <= Date.now()) {
      return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    return providers.get(session.provider)!.serviceAccounts[session.email]!;
  };

  const testIamPermissions = (req: FakeRequest, projectId: string): FakeReply => {
    const account = caller(req);
    if ('status' in account) return account;
    if (!projects.some((p) => p.projectId === projectId)) {
      return googleError(403, 'PERMISSION_DENIED', 'The caller does not have permission');
    }
    const requested = jsonBody(req)?.permissions;
    if (!Array.isArray(requested)) return googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
    const granted = requested.filter((p): p is string => typeof p === 'string' && account.permissions.includes(p));
    // proto3 JSON: an empty repeated field is left out entirely.
    return { status: 200, body: granted.length > 0 ? { permissions: granted } : {} };
  };

  const searchProjects = (req: FakeRequest): FakeReply => {
    const account = caller(req);
    if ('status' in account) return account;
    const visible = account.permissions.includes('resourcemanager.projects.get') ? projects : [];
    const start = Number(Buffer.from(req.query.get('pageToken') ?? '', 'base64url').toString('utf8') || '0');
    if (!Number.isInteger(start) || start < 0) return googleError(400, 'INVALID_ARGUMENT', 'Invalid page token.');
    const size = Math.min(Number(req.query.get('pageSize') ?? '50') || 50, knobs.pageSize);
    const page = visible.slice(start, start + size);
    if (page.length === 0) return { status: 200, body: {} };
    const next = start + size < visible.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
    return {
      status: 200,
      body: {
        projects: page.map((p) => ({
          name: p.name,
          parent: p.parent ?? 'organizations/123456789',
          projectId: p.projectId,
          state: p.state,
          displayName: p.displayName,
          createTime: '2024-01-01T00:00:00Z',
          updateTime: '2024-01-02T00:00:00Z',
          etag: 'W/"fake"',
          labels: {},
        })),
        ...(next ? { nextPageToken: next } : {}),
      },
    };
  };

  const route = async (req: FakeRequest): Promise<FakeReply> => {
    const endpoint: GcpFakeEndpoint | null =
      req.path === '/v1/token'
        ? 'sts'
        : req.path.endsWith(':generateAccessToken')
          ? 'iamcredentials'
          : req.path.startsWith('/v1/projects') || req.path.startsWith('/v3/projects')
            ? 'crm'
            : null;
    if (!endpoint) return googleError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`);
    if (selected(knobs.serverError, endpoint))
      return googleError(503, 'UNAVAILABLE', 'The service is currently unavailable.');
    if (selected(knobs.throttle, endpoint)) {
      return googleError(
        429,
        'RESOURCE_EXHAUSTED',
        "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute'.",
      );
    }
    if (endpoint === 'sts' && req.method === 'POST') return sts(req);
    const gat = /^\/v1\/projects\/[^/]+\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(req.path);
    if (gat && req.method === 'POST') return generateAccessToken(req, decodeURIComponent(gat[1]!));
    const tip = /^\/v[13]\/projects\/([^/:]+):testIamPermissions$/.exec(req.path);
    if (tip && req.method === 'POST') return testIamPermissions(req, decodeURIComponent(tip[1]!));
    if (req.path === '/v3/projects:search' && req.method === 'GET') return searchProjects(req);
    return googleError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`);
  };

  const server = await startFakeServer(async (req) => {
    const reply = await route(req);
    return {
      ...reply,
      ...slowOrBroken(knobs),
    };
  });
  let nextNumber = 100000000001;
  return {
    ...server,
    knobs,
    accessTokens,
    addProvider(provider) {
      providers.set(provider.name, provider);
    },
    addProjects(list) {
      for (const p of list) {
        projects.push({
          projectId: p.projectId,
          name: p.name ?? `projects/${nextNumber++}`,
          displayName: p.displayName ?? p.projectId,
          state: p.state ?? 'ACTIVE',
          ...(p.parent ? { parent: p.parent } : {}),
        });
      }
    },
    setPermissions(provider, email, permissions) {
      const account = providers.get(provider)?.serviceAccounts[email];
      if (!account) throw new Error(`no service account ${email} under ${provider} in the GCP fake`);
      account.permissions = permissions;
    },
    upstream() {
      return { stsEndpoint: server.url, iamCredentialsEndpoint: server.url, crmEndpoint: server.url };
    },
  };
}
