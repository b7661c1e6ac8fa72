import { createHmac } from 'node:crypto';
import type { AppError } from '@alphaswarm/api';
import { assertRequirement, BearerVerifier, remoteIssuer } from '@alphaswarm/api';
import { createAdminClient } from '@alphaswarm/api/client';
import { countLinks, listAudit } from '@alphaswarm/db';
import {
  type FakeReply,
  type FakeRequest,
  type HuggingFaceFake,
  hfProfile,
  startFakeServer,
  startHuggingFaceFake,
} from '@alphaswarm/providers/fakes';
import { TRPCClientError } from '@trpc/client';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/env';
import { productionWarnings } from '../src/runtime/index';
import { call, type Harness, startHarness } from './support/harness';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const CONNECT = '/admin/accounts/org-acme/integrations/huggingface';

describe('caller identity: JWT matrix on a mutating REST call', () => {
  let h: Harness;
  beforeAll(async () => {
    // The upstream is unreachable on purpose: a call that gets past auth fails with 502, never 2xx.
    h = await startHarness({ upstreams: { huggingfaceEndpoint: 'http://127.0.0.1:1' } });
  });
  afterAll(() => h.close());

  const now = () => Math.floor(Date.now() / 1000);

  /** A token of our issuer in every claim, signed with a key that is not the issuer's, under `kid`. */
  async function signedByAStranger(kid: string): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256');
    return new SignJWT({ scope: 'admin:cluster', amr: ['mfa'], auth_time: now() })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(h.oidc.issuer)
      .setAudience(h.oidc.audience)
      .setSubject('x')
      .setExpirationTime('5m')
      .sign(privateKey);
  }

  const cases: [string, () => Promise<string | null>, number, string][] = [
    ['no token', async () => null, 401, 'invalid_token'],
    ['garbage', async () => 'not-a-jwt', 401, 'invalid_token'],
    ['wrong issuer', async () => h.oidc.mint({ iss: 'https://evil.example' }), 401, 'invalid_token'],
    ['wrong audience', async () => h.oidc.mint({ aud: 'someone-else' }), 401, 'invalid_token'],
    ['expired', async () => h.oidc.mint({}, { expiresIn: now() - 60 }), 401, 'invalid_token'],
    ['not yet valid', async () => h.oidc.mint({}, { notBefore: now() + 3600 }), 401, 'invalid_token'],
    [
      'alg none',
      async () =>
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: h.oidc.issuer, aud: h.oidc.audience, sub: 'x', scope: 'admin:cluster', amr: ['mfa'], auth_time: now(), exp: now() + 600 })}.`,
      401,
      'invalid_token',
    ],
    [
      'HS256 signed with the public key',
      async () => {
        const pem = await exportSPKI((await importJWK(h.oidc.publicJwk, 'RS256')) as never);
        const head = b64({ alg: 'HS256', typ: 'JWT', kid: h.oidc.publicJwk.kid });
        const body = b64({
          iss: h.oidc.issuer,
          aud: h.oidc.audience,
          sub: 'x',
          scope: 'admin:cluster',
          amr: ['mfa'],
          auth_time: now(),
          exp: now() + 600,
        });
        const sig = createHmac('sha256', pem).update(`${head}.${body}`).digest('base64url');
        return `${head}.${body}.${sig}`;
      },
      401,
      'invalid_token',
    ],
    ['unknown kid', () => signedByAStranger('nobody-knows-me'), 401, 'invalid_token'],
    ['right kid, wrong key', () => signedByAStranger(String(h.oidc.publicJwk.kid)), 401, 'invalid_token'],
    ['missing scope', async () => h.oidc.mint({ scope: 'admin:read' }), 403, 'insufficient_scope'],
    ['no MFA in amr', async () => h.oidc.mint({ amr: ['pwd'] }), 401, 'insufficient_user_authentication'],
    ['auth_time in the future', async () => h.oidc.mint({ auth_time: now() + 3600 }), 401, 'invalid_token'],
    ['auth_time not a number', async () => h.oidc.mint({ auth_time: String(now()) }), 401, 'invalid_token'],
    ['lives longer than 24 h', async () => h.oidc.mint({}, { expiresIn: '25h' }), 401, 'invalid_token'],
    ['empty sub', async () => h.oidc.mint({ sub: '' }), 401, 'invalid_token'],
    ['sub not a string', async () => h.oidc.mint({ sub: 42 as never }), 401, 'invalid_token'],
    ['stale auth_time', async () => h.oidc.mint({ auth_time: now() - 601 }), 401, 'insufficient_user_authentication'],
  ];

  for (const [name, token, status, code] of cases) {
    it(`${name} → ${status} ${code}, nothing acts`, async () => {
      const before = (await listAudit(h.store.db, {}, { limit: 1000 })).length;
      const res = await call(h, 'POST', CONNECT, { token: await token(), body: { token: 'hf_canary_matrix' } });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(await countLinks(h.store.db)).toBe(0);
      const www = res.headers.get('www-authenticate') ?? '';
      if (code === 'insufficient_user_authentication') {
        expect(www).toMatch(
          /^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=600$/,
        );
      } else {
        expect(www).toContain(`error="${code}"`);
      }
      const events = await listAudit(h.store.db, {}, { limit: 1000 });
      expect(events.length).toBe(before + 1);
      expect(events[0]).toMatchObject({
        phase: 'denied',
        outcome: 'denied',
        action: 'integrations.connect.huggingface',
        orgId: 'org-acme',
      });
      expect(JSON.stringify(events)).not.toContain('hf_canary_matrix');
    });
  }

  it('fresh MFA is allowed through (and then meets the unreachable upstream)', async () => {
    const res = await call(h, 'POST', CONNECT, { body: { token: 'hf_x' } });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'upstream_unavailable' });
    expect(res.body.error.message).toContain('Hugging Face');
    const [outcome, attempt] = await listAudit(h.store.db, {}, { limit: 2 });
    // An external subject is named with its issuer: never the same actor as an embedded admin "alice".
    expect(attempt).toMatchObject({
      phase: 'attempt',
      outcome: 'started',
      actor: `${h.oidc.issuer}#alice@example.com`,
    });
    expect(outcome).toMatchObject({ phase: 'outcome', outcome: 'failure', runId: attempt?.runId });
  });

  it('reads need admin scope but no fresh MFA', async () => {
    const stale = await h.oidc.mint({ scope: 'admin:read', amr: ['pwd'], auth_time: now() - 100_000 });
    const res = await call(h, 'GET', '/admin/accounts/org-acme/integrations', { token: stale });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ integrations: [] });
    const none = await h.oidc.mint({ scope: 'integrations:use' });
    expect((await call(h, 'GET', '/admin/accounts/org-acme/integrations', { token: none })).status).toBe(403);
  });

  it('tRPC answers the same RFC 9470 challenge on its HTTP response', async () => {
    const stale = await h.oidc.mint({ auth_time: now() - 3600 });
    const res = await fetch(`${h.url}/trpc/integrations.checkHealth`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stale}`, 'content-type': 'application/json' },
      body: JSON.stringify({ org_id: 'org-acme', kind: 'huggingface' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_user_authentication".*max_age=600/);
    const body = (await res.json()) as { error: { message: string; data: { app_code: string } } };
    expect(body.error.data.app_code).toBe('insufficient_user_authentication');
  });

  it('a workload subject token can never pass as an admin token', async () => {
    const subject = await h.rt.workload.sign(
      {
        sub: 'org:org-acme:cloud_aws',
        aud: 'alphaswarm-admin-api',
        scope: 'admin:cluster',
        amr: ['mfa'],
        auth_time: now(),
      },
      300,
    );
    const res = await call(h, 'POST', CONNECT, { token: subject, body: { token: 'hf_x' } });
    expect(res.status).toBe(401);
  });
});

describe('audited client address', () => {
  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    for (const [trusted, expected] of [
      ['127.0.0.1', '203.0.113.9'],
      ['', '127.0.0.1'],
    ] as const) {
      const h = await startHarness({ env: { ALPHASWARM_ADMIN_TRUSTED_PROXIES: trusted } });
      try {
        await fetch(`${h.url}/admin/accounts/org-ip/integrations/huggingface`, {
          method: 'DELETE',
          headers: { authorization: 'Bearer nope', 'x-forwarded-for': 'spoofed.example, 203.0.113.9' },
        });
        const [event] = await listAudit(h.store.db, { orgId: 'org-ip' }, { limit: 1 });
        expect(event?.clientIp).toBe(expected);
      } finally {
        await h.close();
      }
    }
  });
});

describe('denied-call audit under a flood', () => {
  it('writes at most 30 denial rows per address per minute and carries the suppressed count forward', async () => {
    let clock = Date.now();
    const h = await startHarness({ now: () => new Date(clock) });
    try {
      const deny = () =>
        fetch(`${h.url}/admin/accounts/org-flood/integrations`, { headers: { authorization: 'Bearer junk' } });
      for (let i = 0; i < 50; i++) expect((await deny()).status).toBe(401);
      expect(await listAudit(h.store.db, { orgId: 'org-flood' }, { limit: 1000 })).toHaveLength(30);
      clock += 61_000;
      await deny();
      const [latest] = await listAudit(h.store.db, { orgId: 'org-flood' }, { limit: 1 });
      expect(latest?.detail).toMatchObject({ code: 'invalid_token', suppressed_since_last: 20 });
    } finally {
      await h.close();
    }
  });
});

describe('service tokens bound to orgs', () => {
  let h: Harness;
  let hf: HuggingFaceFake;
  const PAT_A = 'hf_canary_org_a_secret';
  const PAT_B = 'hf_canary_org_b_secret';

  beforeAll(async () => {
    hf = await startHuggingFaceFake();
    hf.addToken(PAT_A, hfProfile({ name: 'team-a', role: 'read' }));
    hf.addToken(PAT_B, hfProfile({ name: 'team-b', role: 'read' }));
    h = await startHarness({ upstreams: { huggingfaceEndpoint: hf.url } });
    for (const [org, token] of [
      ['org-a', PAT_A],
      ['org-b', PAT_B],
    ] as const) {
      expect(
        (await call(h, 'POST', `/admin/accounts/${org}/integrations/huggingface`, { body: { token } })).status,
      ).toBe(200);
    }
  });
  afterAll(async () => {
    await h.close();
    await hf.close();
  });

  const service = (scope: string) =>
    createAdminClient({ url: h.url, token: () => h.oidc.mint({ scope, sub: 'svc:trainer' }) });
  const issued = (orgId: string) => listAudit(h.store.db, { action: 'credentials.issue', orgId }, { limit: 10 });

  it('integrations:use:org:<org> issues for that org only; another org is NOT_FOUND, audited as denied', async () => {
    const bound = service('integrations:use:org:org-a');
    const mine = await bound.credentials.issue.mutate({ org_id: 'org-a', kind: 'huggingface' });
    expect(mine).toMatchObject({ kind: 'huggingface', token: PAT_A });
    const [outcome, attempt] = await issued('org-a');
    expect(attempt).toMatchObject({ phase: 'attempt', detail: { binding: 'org' } });
    expect(outcome).toMatchObject({ phase: 'outcome', outcome: 'success', detail: { binding: 'org' } });

    const error = await bound.credentials.issue.mutate({ org_id: 'org-b', kind: 'huggingface' }).catch((e) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error.data).toMatchObject({ httpStatus: 404, app_code: 'not_found' });
    expect(JSON.stringify(error)).not.toContain(PAT_B);
    const [denied] = await issued('org-b');
    expect(denied).toMatchObject({
      phase: 'denied',
      outcome: 'denied',
      actor: `${h.oidc.issuer}#svc:trainer`,
      detail: { code: 'not_found' },
    });
    // A prefix of another org's id is not that org.
    const prefix = service('integrations:use:org:org');
    expect(
      await prefix.credentials.issue.mutate({ org_id: 'org-a', kind: 'huggingface' }).catch((e) => e.data?.app_code),
    ).toBe('not_found');
  });

  it('plain integrations:use stays platform-wide (audited so), unless ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE=off', async () => {
    const platform = service('integrations:use');
    expect(await platform.credentials.issue.mutate({ org_id: 'org-b', kind: 'huggingface' })).toMatchObject({
      token: PAT_B,
    });
    const [outcome] = await issued('org-b');
    expect(outcome).toMatchObject({ outcome: 'success', detail: { binding: 'platform' } });
    const admin = service('admin:cluster');
    expect(
      await admin.credentials.issue.mutate({ org_id: 'org-b', kind: 'huggingface' }).catch((e) => e.data?.app_code),
    ).toBe('insufficient_scope');

    const principal = {
      sub: 's',
      iss: 'i',
      actor: 'i#s',
      scopes: ['integrations:use'],
      grants: {},
      amr: [],
      authTime: null,
      claims: {},
    };
    const off = { maxAge: 600, now: new Date(), orgId: 'org-b', platformServiceScope: false };
    expect(() => assertRequirement(principal, 'service', off)).toThrow(/integrations:use:org:org-b/);
    expect(() =>
      assertRequirement({ ...principal, scopes: ['integrations:use:org:org-b'] }, 'service', off),
    ).not.toThrow();
    const warn = (extra: Record<string, string>) =>
      productionWarnings(
        parseEnv({ HOME: '/nonexistent', ALPHASWARM_ADMIN_OIDC_ISSUER: 'https://login.example.com', ...extra }),
      );
    expect(warn({}).join(' ')).toMatch(/"integrations:use".*every org/);
    expect(warn({ ALPHASWARM_ADMIN_PLATFORM_SERVICE_SCOPE: 'off' })).toEqual([]);
  });
});

/**
 * An external issuer on a loopback server answering through `answer` (told the issuer URL and its
 * public key), a verifier of it on a clock the test moves, and what becomes of a token it signs.
 */
async function externalIssuer(answer: (req: FakeRequest, issuer: string, jwk: JWK) => FakeReply) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  let issuer = '';
  const server = await startFakeServer((req) => answer(req, issuer, jwk));
  issuer = server.url;
  const clock = { ms: Date.parse('2031-01-01T00:00:00Z') };
  const now = () => new Date(clock.ms);
  const verifier = new BearerVerifier([remoteIssuer({ issuer, audience: 'api', maxTokenLifetime: 86_400, now })], now);
  /** `ok`, or the refusal's code and Retry-After. */
  const outcome = async (n: number) => {
    const token = await new SignJWT({ scope: 'admin:read', n })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience('api')
      .setSubject('svc')
      .setIssuedAt(Math.floor(clock.ms / 1000))
      .setExpirationTime(Math.floor(clock.ms / 1000) + 300)
      .sign(privateKey);
    return verifier.verify(token).then(
      () => 'ok',
      (e: AppError) => `${e.code} ${e.extra.headers?.['retry-after'] ?? ''}`.trim(),
    );
  };
  return { server, clock, outcome };
}

describe('an external issuer whose signing keys cannot be fetched', () => {
  it('one failed fetch shared by concurrent tokens backs off once, not once per token', async () => {
    const { server, clock, outcome } = await externalIssuer((req, issuer) => {
      if (req.path === '/.well-known/openid-configuration')
        return { status: 200, body: { issuer, jwks_uri: `${issuer}/jwks` } };
      return { status: 503, body: 'down' };
    });
    try {
      const first = await Promise.all(Array.from({ length: 10 }, (_, i) => outcome(i)));
      expect(new Set(first)).toEqual(new Set(['upstream_unavailable 5']));
      expect(server.requests.filter((r) => r.path === '/jwks')).toHaveLength(1);
      // The next attempt, after the first backoff, doubles it once.
      clock.ms += 5_000;
      expect(await outcome(10)).toBe('upstream_unavailable 10');
      expect(server.requests.filter((r) => r.path === '/jwks')).toHaveLength(2);
    } finally {
      await server.close();
    }
  });
});

describe('an external issuer whose discovery fails', () => {
  it('is asked once per backoff period, not once per token; recovers when discovery works again', async () => {
    let up = false;
    const { server, clock, outcome } = await externalIssuer((req, issuer, jwk) => {
      if (!up) return { status: 503, body: 'down' };
      if (req.path === '/.well-known/openid-configuration')
        return { status: 200, body: { issuer, jwks_uri: `${issuer}/jwks` } };
      return { status: 200, body: { keys: [jwk] } };
    });
    try {
      const first = await Promise.all(Array.from({ length: 10 }, (_, i) => outcome(i)));
      expect(new Set(first)).toEqual(new Set(['upstream_unavailable 5']));
      expect(server.requests).toHaveLength(1);
      clock.ms += 4_000;
      expect(await outcome(20)).toMatch(/^upstream_unavailable/);
      expect(server.requests).toHaveLength(1);
      clock.ms += 1_000;
      expect(await outcome(21)).toBe('upstream_unavailable 10');
      expect(server.requests).toHaveLength(2);
      clock.ms += 9_000;
      expect(await outcome(22)).toMatch(/^upstream_unavailable/);
      expect(server.requests).toHaveLength(2);

      up = true;
      clock.ms += 1_000;
      expect(await outcome(23)).toBe('ok');
      expect(await outcome(24)).toBe('ok');
      expect(server.requests.map((r) => r.path)).toEqual([
        '/.well-known/openid-configuration',
        '/.well-known/openid-configuration',
        '/.well-known/openid-configuration',
        '/jwks',
      ]);
    } finally {
      await server.close();
    }
  });
});
