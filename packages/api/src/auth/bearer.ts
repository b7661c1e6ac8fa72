import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { AppError } from '../errors';
import { type Grants, grantsOf, type RoleMapping } from './roles';

/** Asymmetric only: no `none`, no HMAC (an HS256 token "signed" with a public key must never pass). */
export const ALLOWED_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Clock difference tolerated on `exp`, `nbf`, `iat`. */
const CLOCK_TOLERANCE_SECONDS = 5;
/** An `auth_time` further ahead than this is refused: it would make a step-up look fresh for longer. */
export const AUTH_TIME_SKEW_SECONDS = 60;

export interface Principal {
  sub: string;
  iss: string;
  /**
   * Who the audit log names: the plain `sub` for our embedded IdP's admins, `<iss>#<sub>` for an
   * external issuer, so an external `alice` is never the same actor as the embedded `alice`.
   */
  actor: string;
  /** The token's scopes plus the admin scopes its role claim maps to. */
  scopes: string[];
  /** Each scope's source, for the audit: `token scope` or `<claim>:<value>`. */
  grants: Grants;
  amr: string[];
  /** Seconds since epoch of the last interactive authentication, if the token says. */
  authTime: number | null;
  claims: JWTPayload;
}

export interface TrustedIssuer {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
  /** Longest `exp - iat` accepted, seconds. */
  maxTokenLifetime: number;
  /** External issuers name their actors `<iss>#<sub>`. */
  qualifyActor: boolean;
  /** IdP groups or roles mapped to admin scopes (ALPHASWARM_ADMIN_ROLE_CLAIM / _ROLE_MAP). */
  roles?: RoleMapping | null;
  /**
   * Our own issuer: when `sub` last signed out everywhere (RFC 3339), or null. Tokens issued
   * before it are refused; asked on every call, so every replica refuses them as soon as it knows
   * (the database's answer, or one kept until the database announces a change).
   */
  tokensValidAfter?: (sub: string) => Promise<string | null>;
  /** This process has just changed `sub`'s sign-out time: ask the database next time. */
  forgetTokensValidAfter?: (sub: string) => void;
}

/** Discovery or key fetches that fail wait this long before the next try, doubling up to the max. */
export const DISCOVERY_BACKOFF = { initialMs: 5_000, maxMs: 5 * 60_000 };

function issuerUnavailable(issuer: string, retryMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(retryMs / 1000));
  return new AppError(
    'upstream_unavailable',
    `The token issuer ${issuer} could not be reached for its signing keys; retry in ${seconds} s.`,
    { upstream: 'OIDC issuer', headers: { 'retry-after': String(seconds) } },
  );
}

/**
 * An external OIDC issuer: JWKS from configuration or discovery, cached, refetched on an unknown
 * kid. A failed discovery (or a first key fetch that fails) is remembered with a doubling backoff,
 * so while the issuer is down tokens are refused without an outbound request each; concurrent
 * callers share one attempt.
 */
export function remoteIssuer(opts: {
  issuer: string;
  audience: string;
  jwksUrl?: string;
  maxTokenLifetime: number;
  roles?: RoleMapping | null;
  now?: () => Date;
  fetch?: typeof fetch;
}): TrustedIssuer {
  const clock = () => (opts.now ? opts.now().getTime() : Date.now());
  const doFetch = opts.fetch ?? fetch;
  const jwks = (url: string) => createRemoteJWKSet(new URL(url), { cooldownDuration: 10_000, cacheMaxAge: 600_000 });
  let remote: JWTVerifyGetKey | null = opts.jwksUrl ? jwks(opts.jwksUrl) : null;
  let haveKeys = false;
  let failure: { delayMs: number; untilMs: number } | null = null;
  let pending: Promise<JWTVerifyGetKey> | null = null;

  const failed = (): AppError => {
    const delayMs = failure ? Math.min(failure.delayMs * 2, DISCOVERY_BACKOFF.maxMs) : DISCOVERY_BACKOFF.initialMs;
    failure = { delayMs, untilMs: clock() + delayMs };
    return issuerUnavailable(opts.issuer, delayMs);
  };

  const discover = (): Promise<JWTVerifyGetKey> => {
    pending ??= (async () => {
      try {
        const res = await doFetch(`${opts.issuer}/.well-known/openid-configuration`, {
          signal: AbortSignal.timeout(5_000),
          redirect: 'error',
        });
        if (!res.ok) throw failed();
        const doc = (await res.json()) as { jwks_uri?: unknown; issuer?: unknown };
        if (typeof doc.jwks_uri !== 'string' || doc.issuer !== opts.issuer) throw failed();
        remote = jwks(doc.jwks_uri);
        return remote;
      } catch (error) {
        throw error instanceof AppError ? error : failed();
      } finally {
        pending = null;
      }
    })();
    return pending;
  };

  const keys: JWTVerifyGetKey = async (header, token) => {
    const calledAt = clock();
    if (failure && !haveKeys && calledAt < failure.untilMs)
      throw issuerUnavailable(opts.issuer, failure.untilMs - calledAt);
    const resolve = remote ?? (await discover());
    try {
      const key = await resolve(header, token);
      haveKeys = true;
      failure = null;
      return key;
    } catch (error) {
      // A kid that is not there is the token's problem; a JWKS that cannot be fetched is the issuer's.
      if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys)
        throw error;
      if (haveKeys) throw error;
      // Concurrent callers share one key fetch: its failure doubles the backoff once, not once per
      // caller (ten requests at once would otherwise lock the issuer out for minutes).
      if (failure && failure.untilMs - failure.delayMs >= calledAt)
        throw issuerUnavailable(opts.issuer, failure.untilMs - clock());
      throw failed();
    }
  };
  return {
    issuer: opts.issuer,
    audience: opts.audience,
    keys,
    maxTokenLifetime: opts.maxTokenLifetime,
    qualifyActor: true,
    roles: opts.roles ?? null,
  };
}

/** Our own issuer: keys straight from the database, re-read when an unknown kid shows up. */
export function localIssuer(opts: {
  issuer: string;
  audience: string;
  jwks: () => Promise<JSONWebKeySet>;
  maxTokenLifetime: number;
  signOuts?: { tokensValidAfter(sub: string): Promise<string | null>; forget(sub: string): void };
}): TrustedIssuer {
  let cached: { set: JWTVerifyGetKey; kids: Set<string>; at: number } | null = null;
  const { signOuts } = opts;
  const load = async () => {
    const jwks = await opts.jwks();
    cached = { set: createLocalJWKSet(jwks), kids: new Set(jwks.keys.map((k) => String(k.kid))), at: Date.now() };
    return cached;
  };
  const keys: JWTVerifyGetKey = async (header, token) => {
    let c = cached ?? (await load());
    if (!c.kids.has(String(header.kid)) || Date.now() - c.at > 30_000) c = await load();
    return c.set(header, token);
  };
  return {
    issuer: opts.issuer,
    audience: opts.audience,
    keys,
    maxTokenLifetime: opts.maxTokenLifetime,
    qualifyActor: false,
    ...(signOuts
      ? {
          tokensValidAfter: (sub: string) => signOuts.tokensValidAfter(sub),
          forgetTokensValidAfter: (sub: string) => signOuts.forget(sub),
        }
      : {}),
  };
}

function invalid(message: string): AppError {
  return new AppError('invalid_token', message, {
    headers: {
      'www-authenticate': `Bearer error="invalid_token", error_description="${message.replaceAll('"', "'")}"`,
    },
  });
}

/** Verify a bearer JWT against the issuer it names, if we trust that issuer. */
export async function verifyBearer(
  token: string,
  trusted: TrustedIssuer[],
  now: Date = new Date(),
): Promise<Principal> {
  let iss: string | undefined;
  try {
    decodeProtectedHeader(token);
    iss = decodeJwt(token).iss;
  } catch {
    throw invalid('The bearer token is not a well-formed JWT.');
  }
  const issuer = trusted.find((t) => t.issuer === iss);
  if (!issuer) throw invalid('The bearer token was not issued by a trusted issuer.');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, issuer.keys, {
      issuer: issuer.issuer,
      audience: issuer.audience,
      algorithms: ALLOWED_ALGS,
      requiredClaims: ['sub', 'exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: now,
    }));
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof joseErrors.JWTExpired) throw invalid('The bearer token has expired.');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw invalid(`The bearer token failed the "${error.claim}" check.`);
    }
    if (error instanceof joseErrors.JOSEAlgNotAllowed) throw invalid('The bearer token uses a disallowed algorithm.');
    if (error instanceof joseErrors.JWKSNoMatchingKey) throw invalid('The bearer token was signed by an unknown key.');
    throw invalid('The bearer token signature is not valid.');
  }
  const { sub, exp, iat } = payload;
  if (typeof sub !== 'string' || sub.trim() === '' || sub.length > 255) {
    throw invalid('The bearer token failed the "sub" check: it must be a non-empty string.');
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const lifetime = Number(exp) - (typeof iat === 'number' ? iat : nowSeconds);
  if (lifetime > issuer.maxTokenLifetime) {
    throw invalid(
      `The bearer token lives ${lifetime} s; this service accepts at most ${issuer.maxTokenLifetime} s (ALPHASWARM_ADMIN_OIDC_MAX_TOKEN_LIFETIME).`,
    );
  }
  const authTime = payload.auth_time;
  if (authTime !== undefined && (typeof authTime !== 'number' || authTime > nowSeconds + AUTH_TIME_SKEW_SECONDS)) {
    throw invalid('The bearer token failed the "auth_time" check: it is not a time in the past.');
  }
  const tokenScopes =
    typeof payload.scope === 'string'
      ? payload.scope.split(' ').filter(Boolean)
      : Array.isArray(payload.scp)
        ? payload.scp.filter((s): s is string => typeof s === 'string')
        : typeof payload.scp === 'string'
          ? payload.scp.split(' ').filter(Boolean)
          : [];
  const grants = grantsOf(tokenScopes, payload, issuer.roles ?? null);
  const amr = Array.isArray(payload.amr) ? payload.amr.filter((s): s is string => typeof s === 'string') : [];
  return {
    sub,
    iss: issuer.issuer,
    actor: issuer.qualifyActor ? `${issuer.issuer}#${sub}` : sub,
    scopes: Object.keys(grants),
    grants,
    amr,
    authTime: typeof authTime === 'number' ? authTime : null,
    claims: payload,
  };
}

/**
 * Signature checks cost ~0.1 ms each; a token presented again is answered from a bounded cache
 * until it expires (at most a minute, so a retired key stops being honoured soon after).
 * Claims are re-checked against the requirement on every call by the caller.
 */
export class BearerVerifier {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    readonly trusted: TrustedIssuer[],
    private readonly now: () => Date,
    private readonly maxEntries = 10_000,
  ) {}

  async verify(token: string): Promise<Principal> {
    const now = this.now().getTime();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return this.notRevoked(hit.principal);
    if (hit) this.cache.delete(token);
    const principal = await verifyBearer(token, this.trusted, this.now());
    const exp = typeof principal.claims.exp === 'number' ? principal.claims.exp * 1000 : now;
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(token, { principal, until: Math.min(exp, now + 60_000) });
    return this.notRevoked(principal);
  }

  /** `sub` has just signed out everywhere through this process: its next token is checked afresh. */
  signedOutEverywhere(sub: string): void {
    for (const issuer of this.trusted) issuer.forgetTokensValidAfter?.(sub);
  }

  /**
   * "Sign out everywhere" ends every token issued before it. `iat` has whole seconds, so a token
   * of the same second counts as before: refusing one too many beats honouring a stolen one.
   */
  private async notRevoked(principal: Principal): Promise<Principal> {
    const issuer = this.trusted.find((t) => t.issuer === principal.iss);
    const after = issuer?.tokensValidAfter ? await issuer.tokensValidAfter(principal.sub) : null;
    if (after === null) return principal;
    const iat = principal.claims.iat;
    if (typeof iat === 'number' && iat * 1000 > Date.parse(after)) return principal;
    throw invalid('The bearer token was ended when its admin signed out everywhere; sign in again.');
  }
}
