import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTVerifyGetKey, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { refusal } from '../../test/refusal';
import {
  ALLOWED_ALGS,
  AUTH_TIME_SKEW_SECONDS,
  BearerVerifier,
  localIssuer,
  remoteIssuer,
  type TrustedIssuer,
  verifyBearer,
} from './bearer';
import type { RoleMapping } from './roles';

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
    // jose accepts a sub of any type; a number is no actor name.
    await refusedWith(token({ sub: 42 }), 'The bearer token failed the "sub" check: it must be a non-empty string.');
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

  it('an entry verified again after it lapsed counts as new: a full cache drops an older one first', async () => {
    const c = counted();
    let now = NOW;
    const v = new BearerVerifier([c.issuer], () => now, 3);
    const [a, b, d, e] = await Promise.all([token({ n: 1 }), token({ n: 2 }), token({ n: 3 }), token({ n: 4 })]);
    await v.verify(a);
    now = new Date(NOW.getTime() + 30_000);
    await v.verify(b);
    now = new Date(NOW.getTime() + 61_000);
    await v.verify(a);
    await v.verify(d);
    await v.verify(e);
    expect(c.lookups()).toBe(5);
    await v.verify(a);
    expect(c.lookups()).toBe(5);
    await v.verify(b);
    expect(c.lookups()).toBe(6);
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

describe('BearerVerifier: sign out everywhere (tokensValidAfter)', () => {
  /** Our own issuer with a sign-out time for alice, changeable between calls. */
  function signedOut(): {
    issuer: TrustedIssuer;
    at: (rfc3339: string | null) => void;
    asked: string[];
    forgotten: string[];
  } {
    let after: string | null = null;
    const asked: string[] = [];
    const forgotten: string[] = [];
    const local = localIssuer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: async () => ({ keys: [jwk] }),
      maxTokenLifetime: 900,
      signOuts: {
        tokensValidAfter: async (sub) => {
          asked.push(sub);
          return after;
        },
        forget: (sub) => forgotten.push(sub),
      },
    });
    return { issuer: local, at: (t) => (after = t), asked, forgotten };
  }
  const ended = 'The bearer token was ended when its admin signed out everywhere; sign in again.';
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

  it('refuses a token issued before the sign-out, or in its very second; honours one issued after', async () => {
    const s = signedOut();
    const v = new BearerVerifier([s.issuer], () => NOW);
    s.at(iso(NOW_S - 60));
    const before = await token({ iat: NOW_S - 61 });
    const sameSecond = await token({ iat: NOW_S - 60 });
    const after = await token({ iat: NOW_S - 59 });
    expect((await refusal(v.verify(before))).message).toBe(ended);
    const error = await refusal(v.verify(sameSecond));
    expect(error.code).toBe('invalid_token');
    expect(error.message).toBe(ended);
    expect((await v.verify(after)).sub).toBe('alice');
    expect(s.asked).toEqual(['alice', 'alice', 'alice']);
  });

  it('a token without iat cannot show it was issued after the sign-out', async () => {
    const s = signedOut();
    s.at(iso(NOW_S - 3600));
    const v = new BearerVerifier([s.issuer], () => NOW);
    const bare = await token({ exp: NOW_S + 300 }, { omit: ['iat'] });
    expect((await refusal(v.verify(bare))).message).toBe(ended);
  });

  it('is read on every call, so a cached token is refused as soon as its admin signs out', async () => {
    const s = signedOut();
    const v = new BearerVerifier([s.issuer], () => NOW);
    const t = await token({ iat: NOW_S - 10 });
    expect((await v.verify(t)).sub).toBe('alice');
    s.at(iso(NOW_S - 5));
    expect((await refusal(v.verify(t))).message).toBe(ended);
  });

  it('a sign-out through this process reaches the issuer that keeps the answers, and only it', () => {
    const s = signedOut();
    const v = new BearerVerifier([issuer, s.issuer], () => NOW);
    v.signedOutEverywhere('alice');
    expect(s.forgotten).toEqual(['alice']);
  });

  it('belongs to the issuer that signed the token: another trusted issuer’s sign-outs do not apply', async () => {
    const s = signedOut();
    s.at(iso(NOW_S));
    const elsewhere = { ...s.issuer, issuer: 'https://other.test' };
    const v = new BearerVerifier([elsewhere, issuer], () => NOW);
    expect((await v.verify(await token())).sub).toBe('alice');
    expect(s.asked).toEqual([]);
  });
});

describe('localIssuer: how long a key set is believed', () => {
  it('re-reads the key set once it is more than 30 s old, so a removed key stops being honoured', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(NOW);
      let keys = [jwk];
      let reads = 0;
      const local = localIssuer({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: async () => {
          reads++;
          return { keys };
        },
        maxTokenLifetime: 900,
      });
      const t = await token();
      await verifyBearer(t, [local], NOW);
      keys = [];
      vi.setSystemTime(NOW.getTime() + 30_000);
      expect((await verifyBearer(t, [local], NOW)).sub).toBe('alice');
      expect(reads).toBe(1);
      vi.setSystemTime(NOW.getTime() + 30_001);
      const error = await refusal(verifyBearer(t, [local], NOW));
      expect(error.message).toBe('The bearer token was signed by an unknown key.');
      expect(reads).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('asks about sign-outs only when given where to', async () => {
    const base = { issuer: ISSUER, audience: AUDIENCE, jwks: async () => ({ keys: [jwk] }), maxTokenLifetime: 900 };
    const bare = localIssuer(base);
    expect('tokensValidAfter' in bare || 'forgetTokensValidAfter' in bare).toBe(false);
    const at = '2026-01-01T00:00:00.000Z';
    const given = localIssuer({ ...base, signOuts: { tokensValidAfter: async () => at, forget: () => undefined } });
    expect(await given.tokensValidAfter?.('alice')).toBe(at);
  });
});

describe('remoteIssuer: an external OIDC issuer', () => {
  const EXTERNAL = 'https://login.external.test';
  let ext: { privateKey: PrivateKey; jwk: JWK };
  /** The issuer's JWKS endpoint on loopback (node:http: the providers' fakes cost seconds to import). */
  let http: Server;
  const server = { url: '', requests: [] as { path: string }[] };
  /** What the JWKS endpoint answers: the key set, or a status when it is down. */
  let jwksReply: { status: number; body: unknown };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES384', { extractable: true });
    ext = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'r1', alg: 'ES384' } };
    http = createServer((req, res) => {
      server.requests.push({ path: req.url ?? '' });
      res.writeHead(jwksReply.status, { 'content-type': 'application/json' }).end(JSON.stringify(jwksReply.body));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    jwksReply = { status: 200, body: { keys: [ext.jwk] } };
    server.requests.length = 0;
  });
  afterAll(() => new Promise((resolve) => http.close(resolve)));

  const external = (claims: Claims = {}, kid = 'r1') =>
    new SignJWT({ iss: EXTERNAL, aud: 'api', sub: 'bob', iat: NOW_S - 10, exp: NOW_S + 300, ...claims })
      .setProtectedHeader({ alg: 'ES384', kid })
      .sign(ext.privateKey);

  /**
   * The discovery document through the fetch the issuer is given (the issuer's host does not
   * resolve: nothing else can answer), pointing at the loopback JWKS.
   */
  function discovery(answer: () => Response | Promise<Response>) {
    const calls: { url: string; init: RequestInit | undefined }[] = [];
    const doFetch = (async (url: string, init?: RequestInit) => {
      calls.push({ url: String(url), init });
      return answer();
    }) as typeof fetch;
    return { doFetch, calls };
  }
  const doc =
    (body: unknown, status = 200) =>
    () =>
      Response.json(body, { status });
  const good = () => doc({ issuer: EXTERNAL, jwks_uri: `${server.url}/jwks` });

  function setup(answer: () => Response | Promise<Response>, extra: { jwksUrl?: string; roles?: RoleMapping } = {}) {
    let clock = NOW.getTime();
    const d = discovery(answer);
    const trusted = remoteIssuer({
      issuer: EXTERNAL,
      audience: 'api',
      maxTokenLifetime: 900,
      now: () => new Date(clock),
      fetch: d.doFetch,
      ...extra,
    });
    return {
      trusted,
      calls: d.calls,
      advance: (ms: number) => (clock += ms),
      verify: async (t: string | Promise<string>) => verifyBearer(await t, [trusted], NOW),
    };
  }

  async function unavailable(promise: Promise<unknown>, seconds: number) {
    const error = await refusal(promise);
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toBe(
      `The token issuer ${EXTERNAL} could not be reached for its signing keys; retry in ${seconds} s.`,
    );
    expect(error.extra).toMatchObject({ upstream: 'OIDC issuer', headers: { 'retry-after': String(seconds) } });
  }

  it('finds its keys through discovery once, names its actors <iss>#<sub>, and maps its roles', async () => {
    const roles: RoleMapping = { claim: 'groups', map: new Map([['ops', ['admin:read']]]) };
    const r = setup(good(), { roles });
    const p = await r.verify(external({ groups: ['ops'] }));
    expect(p).toMatchObject({
      actor: `${EXTERNAL}#bob`,
      scopes: ['admin:read'],
      grants: { 'admin:read': 'groups:ops' },
    });
    await r.verify(external());
    expect(r.calls.map((c) => c.url)).toEqual([`${EXTERNAL}/.well-known/openid-configuration`]);
    expect(r.calls[0]?.init?.redirect).toBe('error');
    expect(r.calls[0]?.init?.signal).toBeInstanceOf(AbortSignal);
    expect(server.requests.map((q) => q.path)).toEqual(['/jwks']);
    expect(r.trusted).toMatchObject({ issuer: EXTERNAL, audience: 'api', maxTokenLifetime: 900, qualifyActor: true });
    expect(setup(good()).trusted.roles).toBeNull();
  });

  it('with a configured JWKS URL, never asks for discovery', async () => {
    const r = setup(() => Promise.reject(new Error('no discovery expected')), { jwksUrl: `${server.url}/keys` });
    expect((await r.verify(external())).sub).toBe('bob');
    expect(r.calls).toEqual([]);
    expect(server.requests.map((q) => q.path)).toEqual(['/keys']);
  });

  it('a discovery that fails, answers for another issuer or names no jwks_uri is the issuer being unavailable', async () => {
    const answers = [
      doc({ issuer: EXTERNAL, jwks_uri: `${server.url}/jwks` }, 503),
      doc({ issuer: 'https://impostor.test', jwks_uri: `${server.url}/jwks` }),
      doc({ issuer: EXTERNAL, jwks_uri: 42 }),
      doc({ issuer: EXTERNAL, jwks_uri: [`${server.url}/jwks`] }),
      doc({ issuer: EXTERNAL }),
      () => Promise.reject(new TypeError('fetch failed')),
      () => new Response('not json', { status: 200 }),
    ];
    for (const answer of answers) {
      const r = setup(answer);
      await unavailable(r.verify(external()), 5);
      expect(server.requests).toEqual([]);
    }
  });

  it('a first key fetch that fails is the issuer being unavailable too', async () => {
    jwksReply = { status: 503, body: 'down' };
    const r = setup(good());
    await unavailable(r.verify(external()), 5);
  });

  it('is asked again only after a backoff that doubles from 5 s up to 5 min; concurrent callers share one attempt', async () => {
    const r = setup(doc({}, 503));
    await Promise.all([1, 2, 3].map(async () => unavailable(r.verify(external()), 5)));
    expect(r.calls).toHaveLength(1);
    r.advance(2_000);
    await unavailable(r.verify(external()), 3);
    r.advance(2_999);
    await unavailable(r.verify(external()), 1);
    expect(r.calls).toHaveLength(1);
    let delay = 5_000;
    for (const next of [10, 20, 40, 80, 160, 300, 300]) {
      r.advance(delay - (delay === 5_000 ? 4_999 : 0));
      await unavailable(r.verify(external()), next);
      delay = next * 1000;
    }
    expect(r.calls).toHaveLength(8);
  });

  it('with a configured JWKS URL that fails, concurrent callers share one key fetch and one backoff step', async () => {
    jwksReply = { status: 503, body: 'down' };
    const r = setup(() => Promise.reject(new Error('no discovery expected')), { jwksUrl: `${server.url}/keys` });
    await Promise.all([1, 2, 3].map(async () => unavailable(r.verify(external()), 5)));
    expect(server.requests).toHaveLength(1);
    r.advance(4_999);
    await unavailable(r.verify(external()), 1);
    expect(server.requests).toHaveLength(1);
    r.advance(1);
    await unavailable(r.verify(external()), 10);
    expect(server.requests).toHaveLength(2);
    expect(r.calls).toEqual([]);
  });

  it('recovers when discovery works again, and stays up', async () => {
    let up = false;
    const r = setup(() => (up ? good()() : doc({}, 503)()));
    await unavailable(r.verify(external()), 5);
    up = true;
    r.advance(5_000);
    expect((await r.verify(external())).sub).toBe('bob');
    up = false;
    r.advance(1);
    expect((await r.verify(external())).sub).toBe('bob');
    expect(r.calls).toHaveLength(2);
  });

  it('a kid its key set lacks is the token’s problem, not the issuer’s: no backoff', async () => {
    const r = setup(good());
    const error = await refusal(r.verify(external({}, 'r-unknown')));
    expect(error.message).toBe('The bearer token was signed by an unknown key.');
    expect((await r.verify(external())).sub).toBe('bob');
  });

  it('keys from before an outage keep verifying: a failure after that is never an outage', async () => {
    const r = setup(good());
    expect((await r.verify(external())).sub).toBe('bob');
    jwksReply = { status: 503, body: 'down' };
    // An unknown kid would refetch the set; within jose's cooldown it is refused as an unknown key.
    expect((await refusal(r.verify(external({}, 'r2')))).code).toBe('invalid_token');
    expect((await r.verify(external())).sub).toBe('bob');
  });
});
