import { createPublicKey } from 'node:crypto';
import { ErrorCode } from '@alphaswarm/contracts';
import { listAudit } from '@alphaswarm/db';
import { hfProfile } from '@alphaswarm/providers/fakes';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP_FAILURE_LIMIT, LOCKOUT_ATTEMPTS } from '../../src/auth/idp';
import { breakAuditWrites } from '../support/database';
import { upstreamRequests } from '../support/fakes';
import {
  CANARY,
  chunkedBody,
  head,
  type ProductionServer,
  type Reply,
  startProductionServer,
} from './production-server';

/**
 * The standing abuse suite: a production-mode server (built as `serve` builds it) under forged
 * tokens, floods, oversized, deep and ill-encoded bodies, wrong methods and media types, and
 * hostile paths. Whatever comes in: never a 5xx, never a stack or an internal message in a body,
 * no secret anywhere, and the append-only audit log grows by a bounded amount.
 */

const ORG = 'org-abuse';
const REST = `/admin/accounts/${ORG}/integrations`;
const HTTP_OF: Record<string, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
};

/** The body limits the README documents (bytes). */
const BODY_LIMITS = { api: 1024 * 1024, storeImport: 64 * 1024 * 1024 + 64 * 1024, auth: 16 * 1024, rest: 64 * 1024 };

let s: ProductionServer;

beforeAll(async () => {
  s = await startProductionServer();
  s.up.fakes.hf.addToken(CANARY.hfToken, hfProfile({ name: 'canary', role: 'read' }));
});
afterAll(async () => {
  await s?.close();
});

/** A tRPC call over HTTP: GET with ?input= for queries, POST with a JSON body for mutations. */
async function trpc(
  path: string,
  input: unknown,
  opts: { token?: string | null; method?: 'GET' | 'POST'; ip?: string; batch?: boolean } = {},
): Promise<Reply> {
  const method = opts.method ?? 'POST';
  const token = opts.token === undefined ? await s.admin() : opts.token;
  const query = opts.batch ? '?batch=1' : '';
  if (method === 'GET') {
    const encoded = input === undefined ? '' : `${query ? '&' : '?'}input=${encodeURIComponent(JSON.stringify(input))}`;
    return s.request('GET', `/trpc/${path}${query}${encoded}`, { token, ...(opts.ip ? { ip: opts.ip } : {}) });
  }
  return s.request('POST', `/trpc/${path}${query}`, {
    token,
    body: input === undefined ? '' : JSON.stringify(input),
    ...(opts.ip ? { ip: opts.ip } : {}),
  });
}

/** The app code of a REST or tRPC error body (the first one of a batch). */
function appCode(reply: Reply): string | undefined {
  const body = Array.isArray(reply.body) ? reply.body[0] : reply.body;
  return body?.error?.code && typeof body.error.code === 'string' ? body.error.code : body?.error?.data?.app_code;
}

function expectTrpcError(reply: Reply, key: string, app: string): void {
  expect(reply.status, reply.text).toBe(HTTP_OF[key]);
  expect(reply.body.error.data).toMatchObject({ code: key, httpStatus: HTTP_OF[key], app_code: app });
  expect(reply.body.error.code).toBe(TRPC_ERROR_CODES_BY_KEY[key as keyof typeof TRPC_ERROR_CODES_BY_KEY]);
  expectSecurityHeaders(reply);
}

/** tRPC answers carry the same security headers as every other route, errors and results alike. */
function expectSecurityHeaders(reply: Reply): void {
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
  expect(reply.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
}

const fakeRequests = () => upstreamRequests(s.up);

describe('forged bearer tokens', () => {
  it('every forgery is 401 invalid_token on REST, tRPC and batches; nothing acts; the denials are bounded', async () => {
    const ip = '203.0.113.10';
    const good = await s.admin();
    const [header, payload] = good.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const publicPem = createPublicKey({ key: s.oidc.publicJwk as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const stranger = await generateKeyPair('RS256');
    const signWith = (
      key: Parameters<SignJWT['sign']>[0],
      alg: string,
      kid: string,
      extra: Record<string, unknown> = {},
    ) => new SignJWT({ ...claims, ...extra }).setProtectedHeader({ alg, kid }).sign(key);
    const forgeries: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'HS256 keyed with the public key': await signWith(
        new TextEncoder().encode(String(publicPem)),
        'HS256',
        String(s.oidc.publicJwk.kid),
      ),
      'unknown kid': await signWith(stranger.privateKey, 'RS256', 'kid-nobody-published'),
      'known kid, another key': await signWith(stranger.privateKey, 'RS256', String(s.oidc.publicJwk.kid)),
      'wrong issuer': await s.oidc.mint({ iss: 'https://evil.example' }),
      'wrong audience': await s.oidc.mint({ aud: 'another-service' }),
      expired: await s.oidc.mint({}, { expiresIn: Math.floor(Date.now() / 1000) - 120 }),
      'not yet valid': await s.oidc.mint({}, { notBefore: '10m' }),
      'tampered payload': `${header}.${b64({ ...claims, sub: 'mallory', scope: 'admin:cluster integrations:use' })}.${good.split('.')[2]}`,
      garbage: 'not.a.jwt',
    };
    const before = await s.auditRows();
    const upstream = fakeRequests();
    for (const [name, token] of Object.entries(forgeries)) {
      const replies = [
        await s.request('GET', REST, { token, ip }),
        await s.request('POST', `${REST}/huggingface`, { token, ip, body: JSON.stringify({ token: CANARY.hfToken }) }),
        await trpc('integrations.list', { org_id: ORG }, { token, ip, method: 'GET' }),
        await trpc('integrations.disconnect', { org_id: ORG, kind: 'huggingface' }, { token, ip }),
        await trpc(
          'integrations.list,integrations.get',
          { 0: { org_id: ORG }, 1: { org_id: ORG, kind: 'cloud_aws' } },
          {
            token,
            ip,
            method: 'GET',
            batch: true,
          },
        ),
      ];
      for (const reply of replies) {
        expect(reply.status, `${name}: ${reply.text}`).toBe(401);
        expect(appCode(reply), name).toBe('invalid_token');
        expect(reply.headers.get('www-authenticate'), name).toMatch(/error="invalid_token"/);
      }
    }
    expect(fakeRequests()).toBe(upstream);
    // 50 denied requests (60 denials) from one address: at most 30 rows a minute reach the log.
    expect((await s.auditRows()) - before).toBeLessThanOrEqual(30);
    const good200 = await s.request('GET', REST, { token: good, ip });
    expect(good200.status).toBe(200);
  });
});

describe('tRPC error codes (item 8)', () => {
  it('JSON-RPC code, tRPC code and HTTP status agree, and data.app_code is kept', async () => {
    expectTrpcError(
      await trpc('integrations.get', { org_id: ORG, kind: 'cloud_gcp' }, { method: 'GET' }),
      'NOT_FOUND',
      'not_found',
    );
    expectTrpcError(
      await trpc('integrations.list', { org_id: '-bad' }, { method: 'GET' }),
      'BAD_REQUEST',
      'invalid_request',
    );
    expectTrpcError(
      await trpc(
        'integrations.disconnect',
        { org_id: ORG, kind: 'huggingface' },
        { token: await s.admin({ amr: ['pwd'] }) },
      ),
      'UNAUTHORIZED',
      'insufficient_user_authentication',
    );
    expectTrpcError(
      await trpc('integrations.list', { org_id: ORG }, { method: 'GET', token: await s.admin({ scope: 'openid' }) }),
      'FORBIDDEN',
      'insufficient_scope',
    );
    expectTrpcError(
      await trpc('integrations.connect.huggingface', { org_id: ORG, token: 'hf_revokedOrUnknownToken' }),
      'UNPROCESSABLE_CONTENT',
      'credential_rejected',
    );
    const started = await trpc('cloudOnboarding.start', { org_id: ORG, kind: 'cloud_cloudflare' });
    expectSecurityHeaders(started);
    const sessionId = started.body.result.data.session_id as string;
    expectTrpcError(
      await trpc('cloudOnboarding.connect', { session_id: sessionId }),
      'PRECONDITION_FAILED',
      'precondition_failed',
    );
    expectTrpcError(
      await trpc('integrations.disconnect', { org_id: ORG, kind: 'huggingface' }, { method: 'GET' }),
      'METHOD_NOT_SUPPORTED',
      'method_not_allowed',
    );
    expectTrpcError(await trpc('integrations.list', { org_id: ORG }), 'METHOD_NOT_SUPPORTED', 'method_not_allowed');

    const repair = await breakAuditWrites(s.rt.store);
    try {
      // Not hostile input but a broken database: kept out of the suite-wide "never a 5xx".
      const down = await s.request('POST', '/trpc/integrations.disconnect', {
        token: await s.admin(),
        body: JSON.stringify({ org_id: ORG, kind: 'huggingface' }),
        record: false,
      });
      expectTrpcError(down, 'SERVICE_UNAVAILABLE', 'audit_unavailable');
    } finally {
      await repair();
    }
  });
});

describe('bad strings are the caller’s error, refused before any upstream call (item 10)', () => {
  const bad = {
    NUL: 'abc\u0000def',
    BEL: 'abc\u0007def',
    'line feed': 'abc\ndef',
    C1: 'abc\u0085def',
    'lone surrogate': 'abc\ud800def',
    'lone low surrogate': '\udc00abc',
  };

  it('in connect inputs, over REST and tRPC: 400 invalid_request naming the field; the fakes see nothing', async () => {
    const upstream = fakeRequests();
    for (const [name, value] of Object.entries(bad)) {
      const cases: [string, Record<string, unknown>, string][] = [
        ['huggingface', { token: `hf_${value}` }, 'token'],
        ['huggingface', { token: CANARY.hfToken, namespace: value }, 'namespace'],
        ['dockerhub', { username: value, pat: CANARY.dockerPat }, 'username'],
        ['dockerhub', { username: 'demo', pat: `${CANARY.dockerPat}${value}` }, 'pat'],
        ['dockerhub', { username: 'demo', pat: CANARY.dockerPat, namespace: value }, 'namespace'],
      ];
      for (const [kind, input, field] of cases) {
        const rest = await s.request('POST', `${REST}/${kind}`, {
          token: await s.admin(),
          body: JSON.stringify(input),
        });
        expect(rest.status, `${name} ${field}: ${rest.text}`).toBe(400);
        expect(rest.body.error.code).toBe('invalid_request');
        expect(rest.body.error.message).toContain(field);
        const procedure =
          kind === 'huggingface' ? 'integrations.connect.huggingface' : 'integrations.connect.dockerHub';
        const viaTrpc = await trpc(procedure, { org_id: ORG, ...input });
        expectTrpcError(viaTrpc, 'BAD_REQUEST', 'invalid_request');
        expect(viaTrpc.body.error.message).toContain(field);
      }
    }
    expect(fakeRequests()).toBe(upstream);
  });

  it('in wizard params, org ids and sign-in fields', async () => {
    const { body } = await trpc('cloudOnboarding.start', { org_id: ORG, kind: 'cloud_cloudflare' });
    const session_id = body.result.data.session_id as string;
    const account_id = 'a'.repeat(32);
    const upstream = fakeRequests();
    for (const value of Object.values(bad)) {
      const identity = await trpc('cloudOnboarding.validateIdentity', {
        session_id,
        params: { account_id, api_token: `${CANARY.cloudflareToken}${value}` },
      });
      expect(identity.status, identity.text).toBe(400);
      expect(identity.body.error.message).toContain('api_token');
      expect((await trpc('integrations.list', { org_id: `org${value}` }, { method: 'GET' })).status).toBe(400);
      expect(
        (await trpc('cloudOnboarding.get', { session_id: `${session_id}${value}` }, { method: 'GET' })).status,
      ).toBe(400);
      const login = await s.request('POST', '/auth/login', {
        ip: '203.0.113.40',
        body: JSON.stringify({ username: 'alice', password: `${CANARY.password}${value}` }),
      });
      expect(login.status, login.text).toBe(400);
    }
    expect(fakeRequests()).toBe(upstream);
  });

  it('bytes that are not UTF-8 are refused where the body is decoded, on every surface', async () => {
    const upstream = fakeRequests();
    const token = await s.admin();
    const sequences = {
      'stray continuation byte': Buffer.from([0x80]),
      'invalid byte': Buffer.from([0xff]),
      'overlong slash': Buffer.from([0xc0, 0xaf]),
      'truncated sequence': Buffer.from([0xe2, 0x82]),
      'encoded surrogate': Buffer.from([0xed, 0xa0, 0x80]),
    };
    for (const [name, bytes] of Object.entries(sequences)) {
      const json = (prefix: string) => Buffer.concat([Buffer.from(prefix), bytes, Buffer.from('"}')]);
      const replies = [
        await s.request('POST', `${REST}/huggingface`, { token, body: json('{"token":"hf_') }),
        await s.request('POST', '/trpc/integrations.connect.huggingface', {
          token,
          body: json(`{"org_id":"${ORG}","token":"hf_`),
        }),
        await s.request('POST', '/auth/login', { ip: '203.0.113.41', body: json('{"username":"alice","password":"') }),
      ];
      for (const reply of replies) {
        expect(reply.status, `${name}: ${reply.text}`).toBe(400);
        expect(appCode(reply)).toBe('invalid_request');
        expect(reply.text).toMatch(/not valid UTF-8/);
      }
      // In a query string, percent-encoded.
      const hex = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
      const query = await s.request('GET', `/trpc/integrations.list?input=%7B%22org_id%22%3A%22a${hex}%22%7D`, {
        token,
      });
      expect(query.status, `${name}: ${query.text}`).toBe(400);
    }
    expect(fakeRequests()).toBe(upstream);
  });
});

describe('request bodies are capped (item 4)', () => {
  const huge = 700 * 1024 * 1024;

  it('a declared oversize body gets 413 naming the limit before it is read, on every surface', async () => {
    const token = await s.admin();
    const cases: [string, number, Record<string, string>][] = [
      ['/trpc/integrations.connect.huggingface', BODY_LIMITS.api, {}],
      ['/trpc/integrations.connect.huggingface', BODY_LIMITS.api, { Authorization: `Bearer ${token}` }],
      ['/trpc/store.import', BODY_LIMITS.storeImport, { Authorization: `Bearer ${token}` }],
      ['/trpc/auth.login', BODY_LIMITS.auth, {}],
      [`${REST}/huggingface`, BODY_LIMITS.rest, { Authorization: `Bearer ${token}` }],
      ['/auth/login', BODY_LIMITS.auth, {}],
    ];
    for (const [path, limit, extra] of cases) {
      const reply = await s.raw(
        head('POST', path, { 'Content-Type': 'application/json', 'Content-Length': huge, ...extra }),
        [Buffer.from('{"org_id":"')],
      );
      expect(reply.status, `${path}: ${reply.text}`).toBe(413);
      expect(reply.headers.connection).toBe('close');
      expect(reply.text).toContain(`${limit} bytes`);
      expect(reply.text).toMatch(/payload_too_large/);
    }
  });

  it('a chunked body is counted and cut off at the limit while it is still arriving', async () => {
    const token = await s.admin();
    const cases: [string, number, Record<string, string>][] = [
      ['/trpc/integrations.connect.huggingface', BODY_LIMITS.api, { Authorization: `Bearer ${token}` }],
      [`${REST}/huggingface`, BODY_LIMITS.rest, { Authorization: `Bearer ${token}` }],
      ['/auth/login', BODY_LIMITS.auth, {}],
    ];
    for (const [path, limit, extra] of cases) {
      const reply = await s.raw(
        head('POST', path, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', ...extra }),
        chunkedBody(64 * 1024 * 1024),
      );
      expect(reply.status, `${path}: ${reply.text}`).toBe(413);
      expect(reply.text).toContain(`${limit} bytes`);
      expect(reply.sent, path).toBeLessThan(16 * 1024 * 1024);
    }
  });

  it('a refused caller’s body is not read to name the target of its denial', async () => {
    const ip = '203.0.113.20';
    const small = await trpc(
      'integrations.disconnect',
      { org_id: 'org-small-denied', kind: 'cloud_aws' },
      { token: null, ip },
    );
    expect(small.status).toBe(401);
    const [named] = await listAudit(s.rt.store.db, { orgId: 'org-small-denied' }, { limit: 5 });
    expect(named?.outcome).toBe('denied');

    const before = await s.auditRows();
    const input = Buffer.from(
      JSON.stringify({ org_id: 'org-big-denied', kind: 'cloud_aws', pad: 'x'.repeat(600_000) }),
    );
    const big = await s.raw(
      head('POST', '/trpc/integrations.disconnect', {
        'Content-Type': 'application/json',
        'Content-Length': input.length,
        'X-Forwarded-For': ip,
      }),
      [input],
    );
    expect(big.status).toBe(401);
    expect(await s.auditRows()).toBe(before + 1);
    // Denied and audited, but its 600 KB body was never parsed to find the org it names.
    expect(await listAudit(s.rt.store.db, { orgId: 'org-big-denied' }, { limit: 5 })).toEqual([]);
  });

  it('deeply nested JSON is a 400, not a crash', async () => {
    const token = await s.admin();
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const api = `{"org_id":"${ORG}","token":${deep(400_000)}}`;
    const replies = [
      await s.request('POST', '/trpc/integrations.connect.huggingface', { token, body: api }),
      await s.request('POST', `${REST}/huggingface`, { token, body: `{"token":${deep(30_000)}}` }),
      await s.request('POST', '/auth/login', { ip: '203.0.113.42', body: `{"username":${deep(7_000)}}` }),
      await s.request('POST', '/trpc/cloudOnboarding.validateIdentity', {
        token,
        body: `{"session_id":"x","params":{"a":${deep(400_000)}}}`,
      }),
      await s.request('GET', `/trpc/integrations.list?input=${encodeURIComponent(`{"org_id":${deep(2_000)}}`)}`, {
        token,
      }),
    ];
    for (const reply of replies) expect([400, 404], reply.text.slice(0, 200)).toContain(reply.status);
  });
});

describe('methods and media types (item 8)', () => {
  it('wrong methods answer 405 with Allow, other media types 415, on /trpc, REST and /auth/*', async () => {
    const token = await s.admin();
    const json = { 'content-type': 'application/json' };
    const cases: [string, string, Record<string, string>, string | undefined, number][] = [
      ['GET', '/trpc/integrations.disconnect', {}, undefined, 405],
      ['POST', '/trpc/integrations.list', json, '{"org_id":"a"}', 405],
      ['PUT', '/trpc/integrations.disconnect', json, '{}', 405],
      ['PATCH', '/trpc/integrations.disconnect', json, '{}', 405],
      ['DELETE', '/trpc/integrations.disconnect', {}, undefined, 405],
      ['OPTIONS', '/trpc/integrations.list', {}, undefined, 405],
      ['POST', '/trpc/integrations.disconnect', { 'content-type': 'text/plain' }, '{}', 415],
      ['POST', '/trpc/integrations.disconnect', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--', 415],
      ['POST', '/trpc/integrations.disconnect', { 'content-type': 'application/octet-stream' }, '{}', 415],
      ['POST', '/trpc/integrations.disconnect', { 'content-type': 'application/json; charset=latin1' }, '{}', 415],
      ['POST', '/trpc/integrations.disconnect', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=b', 415],
      ['PUT', REST, json, '{}', 405],
      ['DELETE', REST, {}, undefined, 405],
      ['PATCH', `${REST}/huggingface`, json, '{}', 405],
      ['POST', `${REST}/cloud_aws`, json, '{}', 405],
      ['OPTIONS', `${REST}/huggingface/health`, {}, undefined, 405],
      ['POST', `${REST}/huggingface`, { 'content-type': 'text/plain' }, '{"token":"x"}', 415],
      ['POST', `${REST}/huggingface`, { 'content-type': 'application/x-www-form-urlencoded' }, 'token=x', 415],
      ['GET', '/auth/login', {}, undefined, 405],
      ['PUT', '/auth/refresh', json, '{}', 405],
      ['POST', '/auth/login', { 'content-type': 'text/plain' }, '{}', 415],
      ['POST', '/auth/step-up', { 'content-type': 'application/x-www-form-urlencoded' }, 'code=1', 415],
    ];
    for (const [method, path, headers, body, status] of cases) {
      for (const bearer of [token, null]) {
        const reply = await s.request(method, path, {
          token: bearer,
          headers,
          ...(body !== undefined ? { body } : {}),
          ip: '203.0.113.30',
        });
        const what = `${method} ${path} ${JSON.stringify(headers)} ${bearer ? 'authed' : 'anonymous'}`;
        // Without a token a refusal by the headers alone may come first, or the missing token: never a 5xx.
        if (bearer || status === 405 || path.startsWith('/auth/') || path.startsWith('/trpc/')) {
          expect(reply.status, `${what}: ${reply.text}`).toBe(status);
        } else {
          expect([status, 401], `${what}: ${reply.text}`).toContain(reply.status);
        }
        if (reply.status === 405) expect(reply.headers.get('allow'), what).toBeTruthy();
        expect(appCode(reply), what).toBe(
          reply.status === 405
            ? 'method_not_allowed'
            : reply.status === 415
              ? 'unsupported_media_type'
              : 'invalid_token',
        );
      }
    }
  });
});

describe('hostile paths (item 9)', () => {
  it('malformed escapes, traversal, encoded slashes and huge paths get 4xx, never a stack', async () => {
    const token = await s.admin();
    const cases: [string, number[]][] = [
      ['/admin/accounts/%ZZ/integrations', [400]],
      ['/admin/accounts/%E0%A4%A/integrations', [400]],
      ['/admin/accounts/%FF%FE/integrations', [400]],
      [`${REST}/%ZZ`, [400]],
      [`${REST}/%ED%A0%80`, [400]],
      [`${REST}/constructor`, [400]],
      [`${REST}/__proto__`, [400]],
      [`${REST}/hasOwnProperty/health`, [400]],
      ['/admin/accounts/org%2Facme/integrations', [400]],
      ['/admin/accounts/..%2F..%2Fetc%2Fpasswd/integrations', [400]],
      ['/admin/accounts/../../etc/passwd', [404]],
      ['/admin/accounts/org-acme/../org-other/integrations', [404]],
      ['/%2e%2e/%2e%2e/etc/passwd', [404]],
      ['//admin/accounts/org-acme/integrations', [404]],
      [`/admin/accounts/${'a'.repeat(8_000)}/integrations`, [400]],
      [`/${'x/'.repeat(4_000)}`, [404]],
      [`/admin/accounts/${'a'.repeat(20_000)}/integrations`, [431]],
      ['/trpc/', [404]],
      ['/trpc/%ZZ', [400]],
      ['/trpc/integrations.list%ED%A0%80', [400]],
      ['/trpc/integrations.list?input=%ZZ', [400]],
      ['/trpc/integrations.list?input=%7B%22org_id%22%3A%22a%22%7D&x=%E0%A4%A', [400]],
      [`/trpc/${Array.from({ length: 100 }, () => 'integrations.list').join(',')}?batch=1`, [400]],
      ['/trpc/__proto__', [404]],
      ['/trpc/integrations.constructor', [404]],
      ['/healthz/../readyz', [404]],
      ['/auth/login/../../trpc/system.info', [404]],
    ];
    for (const [path, statuses] of cases) {
      // Over a bare socket: fetch would resolve the dot segments before sending.
      const reply = await s.raw(head('GET', path, { Authorization: `Bearer ${token}` }));
      expect(statuses, `${path.slice(0, 100)}: ${reply.status} ${reply.text.slice(0, 200)}`).toContain(reply.status);
    }
    for (const target of ['http://evil.example/admin/accounts/a/integrations', '*', 'admin/accounts/a/integrations']) {
      const reply = await s.raw(head('GET', target));
      expect(reply.status, `${target}: ${reply.text}`).toBe(400);
    }
    const weirdId = await s.raw(head('GET', '/healthz', { 'X-Request-Id': 'a b\u00ff' }));
    expect(weirdId.status).toBe(200);
    expect(weirdId.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

/**
 * Floods on every rate-limited procedure, one client address and one account each. The limits
 * must hold however the attempts arrive (concurrently, over /auth/*, /trpc or a /trpc batch): at
 * most the limit is evaluated (a 401 is an evaluated attempt; a 429 or 400 refused it unevaluated),
 * and once the limit is reached no token is issued, not even for the right secret.
 */
describe('sign-in floods', () => {
  const statuses = (replies: Reply[]) =>
    replies.flatMap((r) =>
      Array.isArray(r.body) ? r.body.map((item: any) => (item.error ? item.error.data.httpStatus : 200)) : [r.status],
    );
  const tokens = (replies: Reply[]) =>
    replies
      .flatMap((r) => (Array.isArray(r.body) ? r.body : [r.body]))
      .filter((b: any) => {
        const data = b?.result?.data ?? b;
        return typeof data?.mfa_token === 'string' || typeof data?.access_token === 'string';
      });
  const evaluated = (replies: Reply[]) => statuses(replies).filter((status) => status === 401).length;

  /**
   * After a flood, wrong attempts one at a time until `limit` were evaluated in all (or one is
   * refused): whatever the flood was let through, the limit is then reached.
   */
  async function reachLimit(limit: number, flood: Reply[], attempt: (i: number) => Promise<Reply>): Promise<void> {
    let failures = evaluated(flood);
    expect(failures).toBeLessThanOrEqual(limit);
    for (let i = 0; failures < limit && i < 3 * limit; i++) {
      const reply = await attempt(i);
      expect(reply.status).toBeLessThan(500);
      if (reply.status === 429) return;
      if (reply.status === 401) failures++;
    }
    expect(failures).toBe(limit);
  }

  async function login(ip: string, username: string, password: string, via: 'http' | 'trpc') {
    const body = JSON.stringify({ username, password });
    return via === 'http'
      ? s.request('POST', '/auth/login', { ip, body })
      : s.request('POST', '/trpc/auth.login', { ip, body });
  }

  for (const via of ['http', 'trpc'] as const) {
    it(`auth.login over ${via}: concurrent wrong passwords for one account evaluate at most ${LOCKOUT_ATTEMPTS}; then no token`, async () => {
      const ip = `203.0.113.${via === 'http' ? 50 : 51}`;
      const user = await s.enrol(`flood-login-${via}`);
      const before = await s.auditRows();
      const replies = await Promise.all(
        Array.from({ length: LOCKOUT_ATTEMPTS + 3 }, (_, i) => login(ip, user.username, `wrong password ${i}`, via)),
      );
      expect(statuses(replies).every((status) => status === 401 || status === 429)).toBe(true);
      await reachLimit(LOCKOUT_ATTEMPTS, replies, (i) => login(ip, user.username, `wrong again ${i}`, via));
      const after = await login(ip, user.username, CANARY.password, via);
      expect(after.status).toBe(429);
      expect(tokens([after])).toEqual([]);
      expect((await s.auditRows()) - before).toBeLessThanOrEqual(30 + 2);
    });
  }

  it(`auth.login: concurrent unknown users from one address evaluate at most ${IP_FAILURE_LIMIT}; then no token`, async () => {
    const ip = '203.0.113.52';
    const user = await s.enrol('flood-address');
    const replies = await Promise.all(
      Array.from({ length: IP_FAILURE_LIMIT + 4 }, (_, i) => login(ip, `nobody-${i}`, 'whatever password', 'http')),
    );
    await reachLimit(IP_FAILURE_LIMIT, replies, (i) => login(ip, `nobody-again-${i}`, 'whatever password', 'http'));
    const after = await login(ip, user.username, CANARY.password, 'trpc');
    expect(after.status).toBe(429);
    expect(tokens([after])).toEqual([]);
  });

  it('auth.login in /trpc batches: at most the limit evaluated, no token after it', async () => {
    const ip = '203.0.113.53';
    const user = await s.enrol('flood-batch');
    const input = Object.fromEntries(
      Array.from({ length: 4 }, (_, i) => [i, { username: user.username, password: `wrong password ${i}` }]),
    );
    const path = `/trpc/${Array.from({ length: 4 }, () => 'auth.login').join(',')}?batch=1`;
    const replies = await Promise.all(
      Array.from({ length: 2 }, () => s.request('POST', path, { ip, body: JSON.stringify(input) })),
    );
    for (const reply of replies) expect(reply.status).toBeLessThan(500);
    await reachLimit(LOCKOUT_ATTEMPTS, replies, (i) => login(ip, user.username, `wrong again ${i}`, 'trpc'));
    const right = { username: user.username, password: CANARY.password };
    const after = await s.request('POST', '/trpc/auth.login,auth.login?batch=1', {
      ip,
      body: JSON.stringify({ 0: right, 1: right }),
    });
    expect(tokens([after, await login(ip, user.username, CANARY.password, 'http')])).toEqual([]);
  });

  for (const via of ['http', 'trpc', 'batch'] as const) {
    it(`auth.stepUp over ${via}: concurrent wrong codes evaluate at most ${LOCKOUT_ATTEMPTS}; then the right code gets no token`, async () => {
      const ip = `203.0.113.${via === 'http' ? 60 : via === 'trpc' ? 61 : 62}`;
      const user = await s.enrol(`flood-step-${via}`);
      const signedIn = await login(ip, user.username, CANARY.password, 'http');
      const mfa_token = signedIn.body.mfa_token as string;
      const right = await user.code();
      const wrong = (i: number) => String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0');
      const stepUp = (code: string, path = '/auth/step-up') =>
        s.request('POST', path, { ip, body: JSON.stringify({ mfa_token, code }) });
      let replies: Reply[];
      if (via === 'batch') {
        const input = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [i, { mfa_token, code: wrong(i) }]));
        const path = `/trpc/${Array.from({ length: 6 }, () => 'auth.stepUp').join(',')}?batch=1`;
        replies = await Promise.all(
          Array.from({ length: 2 }, () => s.request('POST', path, { ip, body: JSON.stringify(input) })),
        );
      } else {
        const path = via === 'http' ? '/auth/step-up' : '/trpc/auth.stepUp';
        replies = await Promise.all(Array.from({ length: 12 }, (_, i) => stepUp(wrong(i), path)));
      }
      for (const reply of replies) expect(reply.status).toBeLessThan(500);
      await reachLimit(LOCKOUT_ATTEMPTS, replies, (i) => stepUp(wrong(20 + i)));
      const after = await stepUp(right);
      expect(after.status).toBe(429);
      expect(tokens([after])).toEqual([]);
    });
  }

  it(`auth.refresh: a flood of bad refresh tokens evaluates at most ${IP_FAILURE_LIMIT}, the audit stays bounded, then no token`, async () => {
    const ip = '203.0.113.70';
    const user = await s.enrol('flood-refresh');
    const mfa = await login(ip, user.username, CANARY.password, 'http');
    const session = await s.request('POST', '/auth/step-up', {
      ip,
      body: JSON.stringify({ mfa_token: mfa.body.mfa_token, code: await user.code() }),
    });
    expect(session.status).toBe(200);
    const before = await s.auditRows();
    const forged = `${String(session.body.refresh_token).slice(0, -4)}AAAA`;
    const refresh = (token: string, via: 'http' | 'trpc') =>
      s.request('POST', via === 'http' ? '/auth/refresh' : '/trpc/auth.refresh', {
        ip,
        body: JSON.stringify({ refresh_token: token }),
      });
    const replies = await Promise.all(
      Array.from({ length: IP_FAILURE_LIMIT + 10 }, (_, i) =>
        i % 2 ? refresh(forged, 'http') : refresh(`garbage.${i}.x`, 'trpc'),
      ),
    );
    for (const reply of replies) expect(reply.status).toBeLessThan(500);
    await reachLimit(IP_FAILURE_LIMIT, replies, (i) => refresh(`garbage.again.${i}`, 'http'));
    expect((await s.auditRows()) - before).toBeLessThanOrEqual(30 + 2);
    const after = await refresh(String(session.body.refresh_token), 'http');
    expect(after.status).toBe(429);
    expect(tokens([after])).toEqual([]);
  });
});

describe('suite-wide invariants', () => {
  it('no reply was a 5xx or carried a stack or an internal message; no secret anywhere; nothing crashed', async () => {
    expect(s.replies.length).toBeGreaterThan(100);
    const codes = new Set<string>(ErrorCode.options);
    for (const reply of s.replies) {
      expect(reply.status, `${reply.what}: ${reply.text.slice(0, 300)}`).toBeLessThan(500);
      expect(reply.text, reply.what).not.toMatch(
        /\n\s+at |node:internal|\.ts:\d+|\/src\/|Cannot create a string|Maximum call stack|in JSON at position|Unexpected token|Cannot read propert|is not a function|UND_ERR|ECONN/,
      );
      for (const code of reply.text.matchAll(/"app_code":"([a-z_]+)"/g)) expect(codes.has(code[1] ?? '')).toBe(true);
    }
    const everything = await s.allText();
    for (const secret of Object.values(CANARY)) expect(everything).not.toContain(secret);
    expect(s.logs.filter((line) => line.includes('unexpected error'))).toEqual([]);
  });
});
