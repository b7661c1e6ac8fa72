import { randomUUID } from 'node:crypto';
import { type RunningFake, startFakeServer } from '@alphaswarm/providers/fakes';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export interface TestOidc {
  issuer: string;
  audience: string;
  server: RunningFake;
  publicJwk: JWK;
  /** A signed access token; `claims` override the defaults (fresh MFA, admin:cluster). */
  mint(
    claims?: JWTPayload,
    opts?: {
      kid?: string;
      expiresIn?: string | number;
      notBefore?: string | number;
      /** Seconds since epoch the token is minted at (a test's clock); the real time otherwise. */
      now?: number;
    },
  ): Promise<string>;
  close(): Promise<void>;
}

/**
 * One RSA key pair for every test issuer of a worker: generating one costs 100–350 ms of CPU, and
 * the suite starts dozens of issuers per worker (one per harness). Each issuer still has its own
 * kid, URL and JWKS, so a server trusting one finds no key for another's tokens; a test that
 * needs a key no issuer publishes generates its own.
 */
let sharedKeyPair: ReturnType<typeof generateKeyPair> | undefined;

/** An external OIDC issuer on loopback, as a company IdP would be: discovery + JWKS over HTTP (or HTTPS with `tls`). */
export async function startTestOidc(
  audience = 'alphaswarm-admin-api',
  tls?: { key: string; cert: string },
): Promise<TestOidc> {
  sharedKeyPair ??= generateKeyPair('RS256', { extractable: true });
  const { privateKey, publicKey } = await sharedKeyPair;
  const kid = `test-${randomUUID()}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server = await startFakeServer((req) => {
    if (req.path === '/.well-known/openid-configuration')
      return { status: 200, body: { issuer, jwks_uri: `${issuer}/jwks` } };
    if (req.path === '/jwks') return { status: 200, body: { keys: [publicJwk] } };
    return { status: 404, body: {} };
  }, tls);
  issuer = server.url;
  return {
    issuer,
    audience,
    server,
    publicJwk,
    async mint(claims = {}, opts = {}) {
      const now = opts.now ?? Math.floor(Date.now() / 1000);
      // `sub` as given, even when it is not a string (tests of malformed claims); a default otherwise.
      let jwt = new SignJWT({
        scope: 'admin:cluster',
        amr: ['pwd', 'mfa'],
        auth_time: now,
        sub: 'alice@example.com',
        ...claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? kid })
        .setIssuer(typeof claims.iss === 'string' ? claims.iss : issuer)
        .setAudience((claims.aud as string | undefined) ?? audience)
        .setIssuedAt(now)
        .setExpirationTime(opts.expiresIn ?? now + 600);
      if (opts.notBefore !== undefined) jwt = jwt.setNotBefore(opts.notBefore);
      return jwt.sign(privateKey);
    },
    close: () => server.close(),
  };
}
