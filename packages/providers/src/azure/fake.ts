import { randomBytes, randomUUID } from 'node:crypto';
import {
  bearerToken,
  type FakeReply,
  type FakeRequest,
  type RunningFake,
  startFakeServer,
  type UpstreamFault,
} from '../testing/fake-server';
import { type Trust, type TrustVerdict, verifySubjectToken } from '../testing/subject-token';
import type { ArmPermission } from './permissions';
import type { PermissionListBody, SubscriptionListBody } from './schemas';

/**
 * Loopback fake of Microsoft Entra ID (OIDC metadata + v2.0 token endpoint, client-credentials
 * grant with a federated client assertion) and of Azure Resource Manager (subscriptions and
 * effective permissions). Wire shapes follow upstreams.md §4. Both listen on HTTPS because MSAL
 * refuses plain-HTTP authorities; they run as two servers so the ARM origin differs from the
 * login origin, as it does in Azure.
 */

export interface AzureFakeApp {
  tenant_id: string;
  client_id: string;
  /** Object id of the app's service principal: the `oid` of the tokens it gets. */
  object_id: string;
  /** The federated identity credential(s) configured on the app registration. */
  federated: Trust | Trust[];
}

export interface AzureFakeSubscription {
  subscription_id: string;
  tenant_id: string;
  display_name: string;
  state?: 'Enabled' | 'Warned' | 'PastDue' | 'Disabled' | 'Deleted';
  /** Effective permission entries per service-principal object id (one entry per role assignment). */
  permissions: Record<string, ArmPermission[]>;
}

export type AzureFakeTarget = 'login' | 'arm';

export interface AzureFakeKnobs {
  /** Delay every answer of both servers. */
  delayMs: number;
  /** Subscriptions per page of `GET /subscriptions`; more become `nextLink` pages. */
  pageSize: number;
  /** Origin written into `nextLink` (default: the ARM fake's own); lets a test play a hostile upstream. */
  nextLinkOrigin: string | null;
  /**
   * How a federated-credential mismatch is reported: `specific` answers the newer per-claim codes
   * (700211 issuer, 700212 audience, 700213 subject); `generic` answers the older AADSTS70021
   * listing the assertion's issuer, subject and audience.
   */
  federatedErrors: 'specific' | 'generic';
  /** `expires_in` of issued access tokens. */
  tokenLifetimeSeconds: number;
  /** Misbehave on every request to one server instead of answering: hang, trickle or flood (the fault suite). */
  fault: { target: AzureFakeTarget; play: UpstreamFault } | null;
}

interface IssuedToken {
  tenant_id: string;
  client_id: string;
  object_id: string;
  audience: string;
  expires: number;
}

export interface AzureFake {
  /** `authorityHost` for @azure/identity. */
  authorityHost: string;
  /** ARM base URL. */
  armEndpoint: string;
  login: RunningFake;
  arm: RunningFake;
  knobs: AzureFakeKnobs;
  addApp(app: AzureFakeApp): void;
  removeApp(tenant_id: string, client_id: string): void;
  addSubscription(sub: AzureFakeSubscription): void;
  /** Answer the next `count` requests to `target` with `status` (e.g. 503), before any other check. */
  failNext(target: AzureFakeTarget, status: number, count?: number): void;
  clearFaults(): void;
  /** Every access token issued so far (to assert on, or to revoke). */
  issued: Map<string, IssuedToken>;
  close(): Promise<void>;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DOCS = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

export async function startAzureFake(options: { tls: { key: string; cert: string } }): Promise<AzureFake> {
  const apps = new Map<string, AzureFakeApp>(); // `${tenant}/${client}`
  const subscriptions = new Map<string, AzureFakeSubscription>();
  const issued = new Map<string, IssuedToken>();
  const faults: Record<AzureFakeTarget, { status: number; count: number }[]> = { login: [], arm: [] };
  const knobs: AzureFakeKnobs = {
    delayMs: 0,
    pageSize: 100,
    nextLinkOrigin: null,
    federatedErrors: 'specific',
    tokenLifetimeSeconds: 3599,
    fault: null,
  };
  let loginBase = '';
  let armBase = '';

  const tenants = () => new Set([...apps.values()].map((a) => a.tenant_id.toLowerCase()));

  const withFaults =
    (target: AzureFakeTarget, handler: (req: FakeRequest) => Promise<FakeReply> | FakeReply) =>
    async (req: FakeRequest): Promise<FakeReply> => {
      const fault = faults[target][0];
      let reply: FakeReply;
      if (fault) {
        if (--fault.count <= 0) faults[target].shift();
        reply =
          target === 'login'
            ? {
                status: fault.status,
                body: aadError(
                  loginBase,
                  'temporarily_unavailable',
                  90033,
                  'A transient error has occurred. Please try again.',
                ),
              }
            : {
                status: fault.status,
                body: { error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' } },
              };
      } else {
        reply = await handler(req);
      }
      return {
        ...reply,
        ...(knobs.delayMs ? { delayMs: knobs.delayMs } : {}),
        ...(knobs.fault?.target === target ? { fault: knobs.fault.play } : {}),
      };
    };

  const login = await startFakeServer(
    withFaults('login', async (req) => {
      const segments = req.path.split('/').filter(Boolean);
      const tenant = segments[0]?.toLowerCase() ?? '';
      const rest = segments.slice(1).join('/');
      if (req.method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
        if (!tenants().has(tenant)) return unknownTenant(loginBase, tenant);
        const t = `${loginBase}/${tenant}`;
        return {
          status: 200,
          body: {
            token_endpoint: `${t}/oauth2/v2.0/token`,
            token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
            jwks_uri: `${t}/discovery/v2.0/keys`,
            response_modes_supported: ['query', 'fragment', 'form_post'],
            subject_types_supported: ['pairwise'],
            id_token_signing_alg_values_supported: ['RS256'],
            response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
            scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
            issuer: `${t}/v2.0`,
            request_uri_parameter_supported: false,
            authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
            end_session_endpoint: `${t}/oauth2/v2.0/logout`,
            tenant_region_scope: 'EU',
          },
        };
      }
      if (req.method === 'GET' && rest === 'discovery/v2.0/keys') return { status: 200, body: { keys: [] } };
      if (req.method === 'POST' && rest === 'oauth2/v2.0/token') return tokenEndpoint(tenant, req);
      return {
        status: 404,
        body: aadError(
          loginBase,
          'invalid_request',
          90027,
          "The request is not valid for the application's 'userAudience' configuration.",
        ),
      };
    }),
    options.tls,
  );
  loginBase = login.url;

  async function tokenEndpoint(tenant: string, req: FakeRequest): Promise<FakeReply> {
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        body: aadError(loginBase, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.'),
      };
    }
    const clientId = (form.get('client_id') ?? '').toLowerCase();
    const assertion = form.get('client_assertion');
    if (form.get('client_assertion_type') !== JWT_BEARER || !assertion) {
      return {
        status: 400,
        body: aadError(
          loginBase,
          'invalid_request',
          90014,
          "The required field 'client_assertion' is missing from the credential. Ensure that you have all the necessary parameters for the login request.",
        ),
      };
    }
    const scope = form.get('scope') ?? '';
    const resource = scope.split(' ').find((s) => s.endsWith('/.default'));
    if (!resource) {
      return {
        status: 400,
        body: aadError(
          loginBase,
          'invalid_scope',
          70011,
          `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
        ),
      };
    }
    if (!tenants().has(tenant)) return unknownTenant(loginBase, tenant);
    const app = apps.get(`${tenant}/${clientId}`);
    if (!app) {
      return {
        status: 400,
        body: aadError(
          loginBase,
          'unauthorized_client',
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
        ),
      };
    }
    const trusts = Array.isArray(app.federated) ? app.federated : [app.federated];
    const verdicts: TrustVerdict[] = [];
    for (const trust of trusts) {
      const verdict = await verifySubjectToken(assertion, trust);
      if (verdict.ok) return issue(app, resource.slice(0, -'/.default'.length));
      verdicts.push(verdict);
    }
    return federationFailure(assertion, verdicts);
  }

  function federationFailure(assertion: string, verdicts: TrustVerdict[]): FakeReply {
    const claims = decodeClaims(assertion);
    const iss = String(claims?.iss ?? '');
    const sub = String(claims?.sub ?? '');
    const aud = Array.isArray(claims?.aud) ? claims.aud.join(',') : String(claims?.aud ?? '');
    // Entra reports the most specific failure among the configured credentials.
    const order = ['expired', 'bad_signature', 'wrong_subject', 'wrong_audience', 'untrusted_issuer', 'malformed'];
    const failure = verdicts.map((v) => v.failure).sort((a, b) => order.indexOf(a ?? '') - order.indexOf(b ?? ''))[0];
    if (failure === 'malformed') {
      return { status: 400, body: aadError(loginBase, 'invalid_request', 50027, 'JWT token is invalid or malformed.') };
    }
    if (failure === 'expired') {
      return {
        status: 400,
        body: aadError(loginBase, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'),
      };
    }
    if (failure === 'bad_signature') {
      return {
        status: 401,
        body: aadError(loginBase, 'invalid_client', 700027, 'Client assertion failed signature validation.'),
      };
    }
    if (knobs.federatedErrors === 'generic') {
      return {
        status: 400,
        body: aadError(
          loginBase,
          'invalid_request',
          70021,
          `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${aud}'. ${DOCS}`,
        ),
      };
    }
    // 700211 and 700213 are seen in the wild with these texts; 700212 (audience) follows the same
    // pattern but its exact wording is unconfirmed.
    const [code, what, value] =
      failure === 'untrusted_issuer'
        ? [700211, 'issuer', iss]
        : failure === 'wrong_audience'
          ? [700212, 'audience', aud]
          : [700213, 'subject', sub];
    return {
      status: 401,
      body: aadError(
        loginBase,
        'invalid_client',
        code,
        `No matching federated identity record found for presented assertion ${what} '${value}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${DOCS}`,
      ),
    };
  }

  function issue(app: AzureFakeApp, resource: string): FakeReply {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + knobs.tokenLifetimeSeconds;
    const header = { typ: 'JWT', alg: 'RS256', kid: 'fake-entra-key' };
    const payload = {
      aud: `${resource}/`,
      iss: `https://sts.windows.net/${app.tenant_id}/`,
      iat: now,
      nbf: now,
      exp,
      appid: app.client_id,
      appidacr: '2',
      idp: `https://sts.windows.net/${app.tenant_id}/`,
      idtyp: 'app',
      oid: app.object_id,
      sub: app.object_id,
      tid: app.tenant_id,
      ver: '1.0',
    };
    // JWT-shaped, not signed: ARM here only looks the token up.
    const accessToken = [b64(header), b64(payload), randomBytes(32).toString('base64url')].join('.');
    issued.set(accessToken, {
      tenant_id: app.tenant_id.toLowerCase(),
      client_id: app.client_id,
      object_id: app.object_id,
      audience: resource,
      expires: exp * 1000,
    });
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: knobs.tokenLifetimeSeconds,
        ext_expires_in: knobs.tokenLifetimeSeconds,
        access_token: accessToken,
      },
    };
  }

  const arm = await startFakeServer(
    withFaults('arm', (req) => {
      const auth = armAuth(req);
      if ('status' in auth) return auth;
      if (!req.query.get('api-version')) {
        return armError(
          400,
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.',
        );
      }
      const segments = req.path.split('/').filter(Boolean);
      if (req.method === 'GET' && segments.length === 1 && segments[0]?.toLowerCase() === 'subscriptions') {
        return listSubscriptions(auth, req);
      }
      if (
        req.method === 'GET' &&
        segments.length === 5 &&
        segments[0]?.toLowerCase() === 'subscriptions' &&
        segments[2]?.toLowerCase() === 'providers' &&
        segments[3]?.toLowerCase() === 'microsoft.authorization' &&
        segments[4]?.toLowerCase() === 'permissions'
      ) {
        const id = (segments[1] ?? '').toLowerCase();
        const sub = subscriptions.get(id);
        if (!sub || sub.tenant_id.toLowerCase() !== auth.tenant_id) {
          return armError(404, 'SubscriptionNotFound', `The subscription '${segments[1]}' could not be found.`);
        }
        const entries = sub.permissions[auth.object_id];
        if (!entries || entries.length === 0) {
          return armError(
            403,
            'AuthorizationFailed',
            `The client '${auth.client_id}' with object id '${auth.object_id}' does not have authorization to perform action 'Microsoft.Authorization/permissions/read' over scope '/subscriptions/${sub.subscription_id}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
          );
        }
        const body: PermissionListBody = {
          value: entries.map((e) => ({
            actions: e.actions,
            notActions: e.notActions,
            dataActions: e.dataActions ?? [],
            notDataActions: e.notDataActions ?? [],
          })),
          nextLink: null,
        };
        return { status: 200, body };
      }
      return armError(
        404,
        'InvalidResourceType',
        `The resource type could not be found in the namespace for api version '${req.query.get('api-version')}'.`,
      );
    }),
    options.tls,
  );
  armBase = arm.url;

  function armAuth(req: FakeRequest): IssuedToken | FakeReply {
    const token = bearerToken(req);
    if (!token)
      return armError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    const found = issued.get(token);
    if (!found) return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    if (found.expires <= Date.now()) {
      return armError(
        401,
        'ExpiredAuthenticationToken',
        'The access token expiry UTC time is earlier than current UTC time.',
      );
    }
    if (new URL(found.audience).origin !== new URL(armBase).origin) {
      return armError(
        401,
        'InvalidAuthenticationToken',
        'The access token has been obtained for wrong audience or resource.',
      );
    }
    return found;
  }

  function listSubscriptions(auth: IssuedToken, req: FakeRequest): FakeReply {
    const visible = [...subscriptions.values()].filter(
      (s) => s.tenant_id.toLowerCase() === auth.tenant_id && (s.permissions[auth.object_id]?.length ?? 0) > 0,
    );
    const skip = Number(req.query.get('$skiptoken') ?? '0') || 0;
    const page = visible.slice(skip, skip + knobs.pageSize);
    const next = skip + knobs.pageSize < visible.length ? skip + knobs.pageSize : null;
    const origin = knobs.nextLinkOrigin ?? armBase;
    const body: SubscriptionListBody & { value: object[] } = {
      value: page.map((s) => ({
        id: `/subscriptions/${s.subscription_id}`,
        authorizationSource: 'RoleBased',
        managedByTenants: [],
        subscriptionId: s.subscription_id,
        tenantId: s.tenant_id,
        displayName: s.display_name,
        state: s.state ?? 'Enabled',
        subscriptionPolicies: {
          locationPlacementId: 'Public_2014-09-01',
          quotaId: 'PayAsYouGo_2014-09-01',
          spendingLimit: 'Off',
        },
      })),
      ...(next !== null
        ? { nextLink: `${origin}/subscriptions?api-version=${req.query.get('api-version')}&%24skiptoken=${next}` }
        : {}),
    };
    return { status: 200, body };
  }

  return {
    authorityHost: login.url,
    armEndpoint: arm.url,
    login,
    arm,
    knobs,
    issued,
    addApp(app) {
      apps.set(`${app.tenant_id.toLowerCase()}/${app.client_id.toLowerCase()}`, app);
    },
    removeApp(tenant_id, client_id) {
      apps.delete(`${tenant_id.toLowerCase()}/${client_id.toLowerCase()}`);
    },
    addSubscription(sub) {
      subscriptions.set(sub.subscription_id.toLowerCase(), sub);
    },
    failNext(target, status, count = 1) {
      faults[target].push({ status, count });
    },
    clearFaults() {
      faults.login = [];
      faults.arm = [];
    },
    async close() {
      await Promise.all([login.close(), arm.close()]);
    },
  };
}

function aadError(base: string, error: string, code: number, description: string) {
  const now = new Date();
  const timestamp = `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${base}/error?code=${code}`,
  };
}

function unknownTenant(base: string, tenant: string): FakeReply {
  return {
    status: 400,
    body: aadError(
      base,
      'invalid_tenant',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    ),
  };
}

function armError(status: number, code: string, message: string): FakeReply {
  return { status, body: { error: { code, message } } };
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeClaims(jwt: string): Record<string, unknown> | null {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
