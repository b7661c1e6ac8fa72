import { exportJWK, generateKeyPair, type JWK, type JWTVerifyGetKey, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import {
  ALLOWED_ALGS,
  AUTH_TIME_SKEW_SECONDS,
  BearerVerifier,
  localIssuer,
  type TrustedIssuer,
  verifyBearer,
} from './bearer';

/*
 * Which bearer JWTs the API believes, and what it reads from them. Real keys, real signatures
 * (jose), a controlled clock: nothing here is decoded without being verified first.
 */

const ISSUER = 'https://idp.test';
const AUDIENCE = 'alphaswarm-admin';
const NOW = new Date('2031-01-01T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let privateKey: PrivateKey;
let jwk: JWK;
let issuer: TrustedIssuer;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  issuer = localIssuer({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: async () => ({ keys: [jwk] }),
    maxTokenLifetime: 900,
  });
});

interface Claims {
  [claim: string]: unknown;
}

/** A token as our IdP would sign it; `omit` leaves registered claims out, `claims` adds or overrides. */
function token(
  claims: Claims = {},
  opts: { omit?: string[]; kid?: string; key?: PrivateKey | Uint8Array; alg?: string } = {},
) {
  const base: Claims = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: NOW_S - 10, exp: NOW_S + 300, ...claims };
  for (const name of opts.omit ?? []) delete base[name];
  return new SignJWT(base)
    .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: opts.kid ?? 'k1' })
    .sign(opts.key ?? privateKey);
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected the token to be refused');
}

const verify = async (t: string | Promise<string>, at = NOW, trusted = [issuer]) => verifyBearer(await t, trusted, at);

async function refusedWith(t: string | Promise<string>, message: string, at = NOW) {
  const error = await refusal(verify(t, at));
  expect(error.code).toBe('invalid_token');
  expect(error.status).toBe(401);
  expect(error.message).toBe(message);
  expect(error.extra.headers?.['www-authenticate']).toBe(
    `Bearer error="invalid_token", error_description="${message.replaceAll('"', "'")}"`,
  );
}

describe('verifyBearer: what is believed', () => {
  it('reads subject, issuer, scopes, amr and auth_time from a valid token; our own admins are named by sub', async () => {
    const p = await verify(
      token({ scope: 'admin:cluster  admin:read', amr: ['pwd', 'otp', 7], auth_time: NOW_S - 30 }),
    );
    expect(p).toMatchObject({
      sub: 'alice',
      iss: ISSUER,
      actor: 'alice',
      scopes: ['admin:cluster', 'admin:read'],
      amr: ['pwd', 'otp'],
      authTime: NOW_S - 30,
    });
    expect(p.claims.sub).toBe('alice');
  });

  it('an external issuer names its actors <iss>#<sub>, so they never pass for our own', async () => {
    const external: TrustedIssuer = { ...issuer, qualifyActor: true };
    expect((await verify(token(), NOW, [external])).actor).toBe(`${ISSUER}#alice`);
  });

  it('scopes come from scope, else from scp as a list or a string; nothing else grants any', async () => {
    expect((await verify(token({ scp: ['admin:read', 3, 'x'] }))).scopes).toEqual(['admin:read', 'x']);
    expect((await verify(token({ scp: 'admin:read  y' }))).scopes).toEqual(['admin:read', 'y']);
    expect((await verify(token({ scope: 'a', scp: ['b'] }))).scopes).toEqual(['a']);
    expect((await verify(token({ scp: 5, roles: ['admin:cluster'] }))).scopes).toEqual([]);
    const bare = await verify(token({ amr: 'otp' }));
    expect(bare).toMatchObject({ scopes: [], amr: [], authTime: null });
  });

  it('the algorithm allow-list is asymmetric only: no none, no HMAC', () => {
    expect(ALLOWED_ALGS).toEqual([
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
    ]);
  });
});

describe('verifyBearer: what is refused', () => {
  it('an HS256 token, even one keyed with bytes the verifier knows, is a disallowed algorithm', async () => {
    const hmac = token({}, { alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(jwk)) });
    await refusedWith(hmac, 'The bearer token uses a disallowed algorithm.');
  });

  it('a token without exp, or without sub', async () => {
    await refusedWith(token({}, { omit: ['exp'] }), 'The bearer token failed the "exp" check.');
    await refusedWith(token({}, { omit: ['sub'] }), 'The bearer token failed the "sub" check.');
    await refusedWith(token({ sub: '  ' }), 'The bearer token failed the "sub" check: it must be a non-empty string.');
    await refusedWith(
      token({ sub: 'a'.repeat(256) }),
      'The bearer token failed the "sub" check: it must be a non-empty string.',
    );
    expect((await verify(token({ sub: 'a'.repeat(255) }))).sub).toHaveLength(255);
  });

  it('an expired token, with less than 5 seconds of clock tolerance', async () => {
    const t = await token({ exp: NOW_S - 4 });
    expect((await verify(t)).sub).toBe('alice');
    await refusedWith(t, 'The bearer token has expired.', new Date(NOW.getTime() + 1000));
  });

  it('a token from another issuer, for another audience, or signed by an unknown key', async () => {
    await refusedWith(token({ iss: 'https://elsewhere.test' }), 'The bearer token was not issued by a trusted issuer.');
    await refusedWith(token({ aud: 'someone-else' }), 'The bearer token failed the "aud" check.');
    await refusedWith(token({}, { kid: 'k-unknown' }), 'The bearer token was signed by an unknown key.');
    const other = await generateKeyPair('ES256');
    await refusedWith(token({}, { key: other.privateKey }), 'The bearer token signature is not valid.');
  });

  it('something that is not a JWT', async () => {
    for (const t of ['', 'abc', 'a.b.c', `${Buffer.from('{}').toString('base64url')}.x.y`]) {
      await refusedWith(t, 'The bearer token is not a well-formed JWT.');
    }
  });

  it('a lifetime (exp - iat, or exp - now without iat) beyond the configured maximum', async () => {
    expect((await verify(token({ iat: NOW_S - 600, exp: NOW_S + 300 }))).sub).toBe('alice');
    await refusedWith(
      token({ iat: NOW_S - 601, exp: NOW_S + 300 }),
      'The bearer token lives 901 s; this service accepts at most 900 s (ALPHASWARM_ADMIN_OIDC_MAX_TOKEN_LIFETIME).',
    );
    expect((await verify(token({ exp: NOW_S + 900 }, { omit: ['iat'] }))).sub).toBe('alice');
    await refusedWith(
      token({ exp: NOW_S + 901 }, { omit: ['iat'] }),
      'The bearer token lives 901 s; this service accepts at most 900 s (ALPHASWARM_ADMIN_OIDC_MAX_TOKEN_LIFETIME).',
    );
  });

  it('an auth_time that is not a time in the past (beyond a minute of skew): it would keep a step-up fresh', async () => {
    expect(AUTH_TIME_SKEW_SECONDS).toBe(60);
    expect((await verify(token({ auth_time: NOW_S + 60 }))).authTime).toBe(NOW_S + 60);
    const message = 'The bearer token failed the "auth_time" check: it is not a time in the past.';
    await refusedWith(token({ auth_time: NOW_S + 61 }), message);
    await refusedWith(token({ auth_time: String(NOW_S) }), message);
  });
});

describe('BearerVerifier: the verified-token cache', () => {
  /** A key source that counts how often a signature had to be checked. */
  function counted(): { issuer: TrustedIssuer; lookups: () => number } {
    let n = 0;
    const keys: JWTVerifyGetKey = async (header, t) => {
      n++;
      return issuer.keys(header, t);
    };
    return { issuer: { ...issuer, keys }, lookups: () => n };
  }

  it('answers a token presented again from the cache, without checking its signature again', async () => {
    const c = counted();
    const v = new BearerVerifier([c.issuer], () => NOW);
    const t = await token();
    const first = await v.verify(t);
    expect(await v.verify(t)).toBe(first);
    expect(c.lookups()).toBe(1);
  });

  it('never outlives the token: a cached token is refused once it has expired', async () => {
    let now = NOW;
    const v = new BearerVerifier([issuer], () => now);
    const t = await token({ exp: NOW_S + 30 });
    await v.verify(t);
    now = new Date(NOW.getTime() + 36_000);
    const error = await refusal(v.verify(t));
    expect(error.message).toBe('The bearer token has expired.');
  });

  it('keeps an entry a minute at most, so a retired key stops being honoured soon after', async () => {
    const c = counted();
    let now = NOW;
    const v = new BearerVerifier([c.issuer], () => now);
    const t = await token();
    await v.verify(t);
    now = new Date(NOW.getTime() + 59_000);
    await v.verify(t);
    expect(c.lookups()).toBe(1);
    now = new Date(NOW.getTime() + 60_000);
    await v.verify(t);
    expect(c.lookups()).toBe(2);
  });

  it('is bounded: past maxEntries the oldest entry is dropped', async () => {
    const c = counted();
    const v = new BearerVerifier([c.issuer], () => NOW, 2);
    const [a, b, d] = await Promise.all([token({ n: 1 }), token({ n: 2 }), token({ n: 3 })]);
    for (const t of [a, b, d]) await v.verify(t);
    expect(c.lookups()).toBe(3);
    await v.verify(d);
    await v.verify(b);
    expect(c.lookups()).toBe(3);
    await v.verify(a);
    expect(c.lookups()).toBe(4);
  });

  it('caches nothing it refused', async () => {
    const c = counted();
    const v = new BearerVerifier([c.issuer], () => NOW);
    const t = await token({ aud: 'someone-else' });
    await refusal(v.verify(t));
    await refusal(v.verify(t));
    expect(c.lookups()).toBe(2);
  });
});

describe('localIssuer: keys from the database', () => {
  it('re-reads the key set when an unknown kid shows up (a rotated key)', async () => {
    const second = await generateKeyPair('ES256', { extractable: true });
    const jwk2 = { ...(await exportJWK(second.publicKey)), kid: 'k2', alg: 'ES256' };
    const sets = [[jwk], [jwk, jwk2]];
    let reads = 0;
    const local = localIssuer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: async () => ({ keys: sets[Math.min(reads++, 1)] ?? [] }),
      maxTokenLifetime: 900,
    });
    expect((await verifyBearer(await token(), [local], NOW)).sub).toBe('alice');
    expect((await verifyBearer(await token(), [local], NOW)).sub).toBe('alice');
    expect(reads).toBe(1);
    const rotated = await token({}, { kid: 'k2', key: second.privateKey });
    expect((await verifyBearer(rotated, [local], NOW)).sub).toBe('alice');
    expect(reads).toBe(2);
    expect(local).toMatchObject({ issuer: ISSUER, audience: AUDIENCE, maxTokenLifetime: 900, qualifyActor: false });
  });
});
