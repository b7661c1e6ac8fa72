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

/** Asymmetric only: no `none`, no HMAC (an HS256 token "signed" with a public key must never pass). */
export const ALLOWED_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface Principal {
  sub: string;
  iss: string;
  scopes: string[];
  amr: string[];
  /** Seconds since epoch of the last interactive authentication, if the token says. */
  authTime: number | null;
  claims: JWTPayload;
}

export interface TrustedIssuer {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
}

/** An external OIDC issuer: JWKS from configuration or discovery, cached, refetched on an unknown kid. */
export function remoteIssuer(opts: { issuer: string; audience: string; jwksUrl?: string }): TrustedIssuer {
  let remote: JWTVerifyGetKey | null = opts.jwksUrl
    ? createRemoteJWKSet(new URL(opts.jwksUrl), { cooldownDuration: 10_000, cacheMaxAge: 600_000 })
    : null;
  const keys: JWTVerifyGetKey = async (header, token) => {
    if (!remote) {
      const res = await fetch(`${opts.issuer}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) throw new Error(`discovery of ${opts.issuer} answered ${res.status}`);
      const doc = (await res.json()) as { jwks_uri?: string; issuer?: string };
      if (!doc.jwks_uri || doc.issuer !== opts.issuer) throw new Error(`discovery of ${opts.issuer} is not usable`);
      remote = createRemoteJWKSet(new URL(doc.jwks_uri), { cooldownDuration: 10_000, cacheMaxAge: 600_000 });
    }
    return remote(header, token);
  };
  return { issuer: opts.issuer, audience: opts.audience, keys };
}

/** Our own issuer: keys straight from the database, re-read when an unknown kid shows up. */
export function localIssuer(opts: {
  issuer: string;
  audience: string;
  jwks: () => Promise<JSONWebKeySet>;
}): TrustedIssuer {
  let cached: { set: JWTVerifyGetKey; kids: Set<string>; at: number } | null = null;
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
  return { issuer: opts.issuer, audience: opts.audience, keys };
}

function invalid(message: string): AppError {
  return new AppError('invalid_token', message, {
    headers: {
      'www-authenticate': `Bearer error="invalid_token", error_description="${message.replaceAll('"', "'")}"`,
    },
  });
}

/** Verify a bearer JWT against the issuer it names, if we trust that issuer. */
export async function verifyBearer(token: string, trusted: TrustedIssuer[]): Promise<Principal> {
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
      clockTolerance: 5,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw invalid('The bearer token has expired.');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw invalid(`The bearer token failed the "${error.claim}" check.`);
    }
    if (error instanceof joseErrors.JOSEAlgNotAllowed) throw invalid('The bearer token uses a disallowed algorithm.');
    if (error instanceof joseErrors.JWKSNoMatchingKey) throw invalid('The bearer token was signed by an unknown key.');
    throw invalid('The bearer token signature is not valid.');
  }
  const scopes =
    typeof payload.scope === 'string'
      ? payload.scope.split(' ').filter(Boolean)
      : Array.isArray(payload.scp)
        ? payload.scp.filter((s): s is string => typeof s === 'string')
        : typeof payload.scp === 'string'
          ? payload.scp.split(' ').filter(Boolean)
          : [];
  const amr = Array.isArray(payload.amr) ? payload.amr.filter((s): s is string => typeof s === 'string') : [];
  return {
    sub: String(payload.sub),
    iss: issuer.issuer,
    scopes,
    amr,
    authTime: typeof payload.auth_time === 'number' ? payload.auth_time : null,
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
    if (hit && hit.until > now) return hit.principal;
    if (hit) this.cache.delete(token);
    const principal = await verifyBearer(token, this.trusted);
    const exp = typeof principal.claims.exp === 'number' ? principal.claims.exp * 1000 : now;
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(token, { principal, until: Math.min(exp, now + 60_000) });
    return principal;
  }
}
