import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';

/** What the customer configured on their side: the trust a cloud evaluates our token against. */
export interface Trust {
  issuer: string;
  subject: string;
  audience: string;
}

export type TrustFailure =
  | 'malformed'
  | 'untrusted_issuer'
  | 'bad_signature'
  | 'expired'
  | 'wrong_audience'
  | 'wrong_subject';

export interface TrustVerdict {
  ok: boolean;
  failure?: TrustFailure;
  claims?: JWTPayload;
  detail?: string;
}

const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * How a cloud checks our subject token: discovery document of the configured issuer over HTTP,
 * then its JWKS, signature, iss, aud, sub and expiry. Fakes call this; it never trusts the
 * token's own `iss` to find keys.
 */
export async function verifySubjectToken(token: string, trust: Trust): Promise<TrustVerdict> {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, failure: 'malformed', detail: 'not a JWT' };
  let unverified: JWTPayload;
  try {
    unverified = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as JWTPayload;
  } catch {
    return { ok: false, failure: 'malformed', detail: 'payload is not JSON' };
  }
  if (unverified.iss !== trust.issuer) {
    return { ok: false, failure: 'untrusted_issuer', claims: unverified, detail: String(unverified.iss) };
  }
  let jwks = jwksCache.get(trust.issuer);
  if (!jwks) {
    const res = await fetch(`${trust.issuer}/.well-known/openid-configuration`);
    if (!res.ok) return { ok: false, failure: 'untrusted_issuer', detail: `discovery answered ${res.status}` };
    const discovery = (await res.json()) as { jwks_uri: string; issuer: string };
    if (discovery.issuer !== trust.issuer)
      return { ok: false, failure: 'untrusted_issuer', detail: 'discovery issuer mismatch' };
    jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { cooldownDuration: 0, cacheMaxAge: 1000 });
    jwksCache.set(trust.issuer, jwks);
  }
  try {
    const { payload } = await jwtVerify(token, jwks, { issuer: trust.issuer, algorithms: ['RS256'] });
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.includes(trust.audience))
      return { ok: false, failure: 'wrong_audience', claims: payload, detail: String(payload.aud) };
    if (payload.sub !== trust.subject)
      return { ok: false, failure: 'wrong_subject', claims: payload, detail: String(payload.sub) };
    return { ok: true, claims: payload };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') return { ok: false, failure: 'expired', claims: unverified };
    return { ok: false, failure: 'bad_signature', claims: unverified, detail: code ?? String(error) };
  }
}
