import { createHmac } from 'node:crypto';
import { countLinks, listAudit } from '@alphaswarm/db';
import { exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    [
      'unknown kid',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT({ scope: 'admin:cluster', amr: ['mfa'], auth_time: now() })
          .setProtectedHeader({ alg: 'RS256', kid: 'nobody-knows-me' })
          .setIssuer(h.oidc.issuer)
          .setAudience(h.oidc.audience)
          .setSubject('x')
          .setExpirationTime('5m')
          .sign(privateKey);
      },
      401,
      'invalid_token',
    ],
    [
      'right kid, wrong key',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT({ scope: 'admin:cluster', amr: ['mfa'], auth_time: now() })
          .setProtectedHeader({ alg: 'RS256', kid: String(h.oidc.publicJwk.kid) })
          .setIssuer(h.oidc.issuer)
          .setAudience(h.oidc.audience)
          .setSubject('x')
          .setExpirationTime('5m')
          .sign(privateKey);
      },
      401,
      'invalid_token',
    ],
    ['missing scope', async () => h.oidc.mint({ scope: 'admin:read' }), 403, 'insufficient_scope'],
    ['no MFA in amr', async () => h.oidc.mint({ amr: ['pwd'] }), 401, 'insufficient_user_authentication'],
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
    expect(attempt).toMatchObject({ phase: 'attempt', outcome: 'started', actor: 'alice@example.com' });
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
