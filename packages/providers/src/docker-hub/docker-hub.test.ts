import { ProviderError } from '@alphaswarm/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../http';
import { must, rejectionFrom } from '../testing/assertions';
import { testContext } from '../testing/context';
import type { LinkDraft, ProviderContext, StoredLink } from '../types';
import { type DockerHubFake, startDockerHubFake } from './fake';
import { provider as dh } from './provider';
import { DockerHubLinkMetadata } from './schemas';

const PAT = {
  alice: 'dckr_pat_AliceAAAAAAAAAAAAAAAAAAAAAAA',
  bob: 'dckr_pat_BobBBBBBBBBBBBBBBBBBBBBBBBBBB',
  carol: 'dckr_pat_CarolCCCCCCCCCCCCCCCCCCCCCCC',
};
const ALICE_PASSWORD = 'correct-horse-battery-staple';
const NOT_A_PAT = 'dckr_pat_WrongWWWWWWWWWWWWWWWWWWWWWWW';
const FILLER_ORGS = Array.from({ length: 230 }, (_, i) => `filler${String(i).padStart(3, '0')}`);
const CAROL_ORGS = Array.from({ length: 2050 }, (_, i) => `many${String(i).padStart(4, '0')}`);

let fake: DockerHubFake;
let ctx: ProviderContext;

beforeAll(async () => {
  fake = await startDockerHubFake({
    rateLimitPerMinute: 100_000,
    users: [
      { username: 'alice', pats: [PAT.alice], password: ALICE_PASSWORD, twoFactor: true, fullName: 'Alice Example' },
      { username: 'bob', pats: [PAT.bob] },
      { username: 'carol', pats: [PAT.carol] },
    ],
    orgs: [
      { orgname: 'acme', fullName: 'Acme Quant', members: ['alice', 'bob'] },
      { orgname: 'outsiders', members: ['bob'] },
      ...FILLER_ORGS.map((orgname) => ({ orgname, members: ['alice'] })),
      { orgname: 'zz-deep', fullName: 'Deep Org', members: ['alice'] },
      ...CAROL_ORGS.map((orgname) => ({ orgname, members: ['carol'] })),
    ],
  });
  ctx = testContext({ upstreams: { dockerHubUrl: `${fake.url}/` } });
});

afterEach(() => fake.reset());
afterAll(async () => {
  await ctx.http.close();
  await fake.close();
});

const rejection = rejectionFrom('Docker Hub');

const since = (n: number) => fake.requests.slice(n);

describe('docker hub connect', () => {
  it('defaults the namespace to the username, logging in on /v2/auth/token', async () => {
    const n = fake.requests.length;
    const draft = await dh.validate(ctx, { username: 'alice', pat: PAT.alice });
    expect(draft).toMatchObject({
      namespace: 'alice',
      status: 'healthy',
      error: null,
      warnings: [],
      secret: { username: 'alice', pat: PAT.alice },
      expires_at: null,
    });
    expect(DockerHubLinkMetadata.parse(draft.metadata)).toEqual({
      username: 'alice',
      namespace_type: 'user',
      full_name: 'Alice Example',
      token_expires_at: null,
    });
    const [login, lookup] = since(n);
    expect(login).toMatchObject({ method: 'POST', path: '/v2/auth/token' });
    expect(JSON.parse(must(login).body)).toEqual({ identifier: 'alice', secret: PAT.alice });
    expect(lookup).toMatchObject({ method: 'GET', path: '/v2/users/alice/' });
    const jwt = /^Bearer (.+)$/.exec(String(must(lookup).headers.authorization))?.[1];
    expect(fake.accessTokens.get(must(jwt))?.username).toBe('alice');
  });

  it('connects an explicit user namespace', async () => {
    const draft = await dh.validate(ctx, { username: 'bob', pat: PAT.bob, namespace: 'bob' });
    expect(draft.namespace).toBe('bob');
    expect(draft.metadata).toMatchObject({ username: 'bob', namespace_type: 'user', full_name: null });
  });

  it('connects an org namespace after confirming membership', async () => {
    const n = fake.requests.length;
    const draft = await dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace: 'acme' });
    expect(draft.namespace).toBe('acme');
    expect(draft.metadata).toEqual({
      username: 'alice',
      namespace_type: 'org',
      full_name: 'Acme Quant',
      token_expires_at: null,
    });
    const paths = since(n).map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(['POST /v2/auth/token', 'GET /v2/orgs/acme', 'GET /v2/user/orgs/']);
    expect(must(since(n)[2]).query.get('page_size')).toBe('100');
    expect(must(since(n)[2]).query.get('page')).toBe('1');
  });

  it.each([404, 405] as const)('falls back to /v2/users/login when /v2/auth/token answers %i', async (status) => {
    fake.knobs.authTokenRoute = status;
    const n = fake.requests.length;
    const draft = await dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace: 'acme' });
    expect(draft.namespace).toBe('acme');
    const legacy = must(since(n)[1]);
    expect(legacy).toMatchObject({ method: 'POST', path: '/v2/users/login' });
    expect(JSON.parse(legacy.body)).toEqual({ username: 'alice', password: PAT.alice });
  });

  it('follows org-membership pages until the org is found', async () => {
    const n = fake.requests.length;
    const draft = await dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace: 'zz-deep' });
    expect(draft.metadata).toMatchObject({ namespace_type: 'org', full_name: 'Deep Org' });
    const pages = since(n).filter((r) => r.path === '/v2/user/orgs/');
    expect(pages.map((r) => r.query.get('page'))).toEqual(['1', '2', '3']);
    expect(pages.every((r) => r.query.get('page_size') === '100')).toBe(true);
  });

  it('caps membership paging at 20 pages', async () => {
    const n = fake.requests.length;
    const e = await rejection(dh.validate(ctx, { username: 'carol', pat: PAT.carol, namespace: 'many2049' }));
    expect(e.code).toBe('namespace_denied');
    expect(e.message).toContain('first 2000');
    expect(since(n).filter((r) => r.path === '/v2/user/orgs/')).toHaveLength(20);
    // Within the cap it is found.
    const ok = await dh.validate(ctx, { username: 'carol', pat: PAT.carol, namespace: 'many1999' });
    expect(ok.namespace).toBe('many1999');
  });

  it('refuses to follow a next link to another host', async () => {
    fake.knobs.nextOrigin = 'http://127.0.0.2:9';
    const e = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace: 'zz-deep' }));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.message).toContain('refusing to follow');
  });
});

describe('docker hub refusals', () => {
  it('denies an org the user is not a member of', async () => {
    const e = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace: 'outsiders' }));
    expect(e.code).toBe('namespace_denied');
    expect(e.message).toContain('"outsiders"');
    expect(e.message).toContain('not a member');
  });

  it('denies a namespace that does not exist, or is someone else', async () => {
    for (const namespace of ['no-such-org', 'bob']) {
      const e = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace }));
      expect(e.code).toBe('namespace_denied');
      expect(e.message).toContain('not found');
    }
    fake.knobs.namespace404 = true;
    const own = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice }));
    expect(own.code).toBe('namespace_denied');
  });

  it('maps a login 401 to credential_rejected', async () => {
    const e = await rejection(dh.validate(ctx, { username: 'alice', pat: NOT_A_PAT }));
    expect(e.code).toBe('credential_rejected');
    expect(e.details.status).toBe(401);
    expect(e.message).toContain('HTTP 401: Incorrect authentication credentials');
    fake.knobs.failWith401 = true;
    fake.knobs.authTokenRoute = 404;
    const legacy = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice }));
    expect(legacy.code).toBe('credential_rejected');
  });

  it.each(['available', 404] as const)('refuses a password on a 2FA account (auth route %s)', async (route) => {
    fake.knobs.authTokenRoute = route;
    const e = await rejection(dh.validate(ctx, { username: 'alice', pat: ALICE_PASSWORD }));
    expect(e.code).toBe('credential_rejected');
    expect(e.message).toContain('password');
    expect(e.message).toContain('Account settings → Personal access tokens');
    expect(e.message).toContain('use it instead of the password');
  });
});

describe('docker hub upstream faults', () => {
  it('maps 429 to rate_limited with the retry seconds', async () => {
    fake.knobs.rateLimit = { retryAfterSeconds: 37 };
    const e = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice }));
    expect(e.code).toBe('rate_limited');
    expect(e.details.retryAfterSeconds).toBe(37);

    fake.knobs.faultOn = 'lookups';
    const later = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace: 'acme' }));
    expect(later.code).toBe('rate_limited');
    expect(later.details.retryAfterSeconds).toBe(37);
  });

  it('sends X-RateLimit-* on every answer and both retry headers on 429', async () => {
    const ok = await ctx.http.request('Docker Hub', `${fake.url}/v2/auth/token`, {
      method: 'POST',
      json: { identifier: 'bob', secret: PAT.bob },
    });
    expect(ok.headers['x-ratelimit-limit']).toBe('100000');
    expect(Number(ok.headers['x-ratelimit-remaining'])).toBeGreaterThan(0);
    expect(Number(ok.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    // Older scripts send `JWT <token>`.
    const jwt = (JSON.parse(ok.body) as { access_token: string }).access_token;
    const me = await ctx.http.request('Docker Hub', `${fake.url}/v2/user/`, {
      headers: { authorization: `JWT ${jwt}` },
    });
    expect(me.status).toBe(200);
    const anon = await ctx.http.request('Docker Hub', `${fake.url}/v2/user/`, {
      headers: { authorization: 'Bearer forged' },
    });
    expect(anon.status).toBe(401);

    fake.knobs.rateLimit = { retryAfterSeconds: 5 };
    const limited = await ctx.http.request('Docker Hub', `${fake.url}/v2/user/`);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('5');
    expect(Number(limited.headers['x-retry-after']) - Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(4);
    expect(limited.headers['x-ratelimit-limit']).toBe('100000');
  });

  it.each(['login', 'lookups'] as const)('maps 500 on %s to upstream_unavailable', async (faultOn) => {
    fake.knobs.status = 500;
    fake.knobs.faultOn = faultOn;
    const e = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace: 'acme' }));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.details.status).toBe(500);
  });

  it('maps a slow answer to upstream_timeout', async () => {
    fake.knobs.delayMs = 1_000;
    const http = new HttpClient({ totalTimeoutMs: 300 });
    try {
      const slow = testContext({ upstreams: { dockerHubUrl: fake.url }, http });
      const e = await rejection(dh.validate(slow, { username: 'alice', pat: PAT.alice }));
      expect(e.code).toBe('upstream_timeout');
    } finally {
      await http.close();
    }
  });

  it.each(['login', 'lookups'] as const)('maps malformed JSON on %s to upstream_unavailable', async (faultOn) => {
    fake.knobs.malformedBody = true;
    fake.knobs.faultOn = faultOn;
    const e = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice, namespace: 'acme' }));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.message).toContain('not valid JSON');
  });

  it('refuses an oversized body', async () => {
    fake.knobs.oversizedBody = true;
    const e = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice }));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.message).toContain('larger than');
  });
});

describe('docker hub health and issue', () => {
  const link = (username: string, pat: string, namespace: string): StoredLink<{ username: string; pat: string }> => ({
    org_id: 'org-acme',
    kind: 'docker_hub',
    namespace,
    metadata: {},
    secret: { username, pat },
  });

  it('reports healthy, then throws the rejection once membership is lost or the PAT is deleted', async () => {
    fake.addUser({ username: 'dave', pats: ['dckr_pat_Dave'] });
    fake.addOrg({ orgname: 'daves-org', members: ['dave'] });
    const l = link('dave', 'dckr_pat_Dave', 'daves-org');
    expect(await dh.checkHealth(ctx, l)).toMatchObject({
      status: 'healthy',
      error: null,
      metadata: { namespace_type: 'org' },
    });

    must(fake.orgs.get('daves-org')).members = [];
    const left = await rejection(dh.checkHealth(ctx, l));
    expect(left.code).toBe('namespace_denied');
    expect(left.message).toContain('"daves-org"');

    must(fake.users.get('dave')).pats = [];
    const revoked = await rejection(dh.checkHealth(ctx, l));
    expect(revoked.code).toBe('credential_rejected');
    expect(revoked.message).toContain('rejected the username or personal access token');
  });

  it('throws on a transient fault too, for the caller to degrade rather than condemn the link', async () => {
    fake.knobs.status = 503;
    const e = await rejection(dh.checkHealth(ctx, link('alice', PAT.alice, 'acme')));
    expect(e.code).toBe('upstream_unavailable');
  });

  it('issues username, PAT and namespace', async () => {
    expect(await dh.issueCredentials(ctx, link('alice', PAT.alice, 'acme'))).toEqual({
      kind: 'docker_hub',
      username: 'alice',
      pat: PAT.alice,
      namespace: 'acme',
    });
  });
});

describe('docker hub secret canary', () => {
  it('never puts the PAT, password or session JWT in an error message or a draft field other than secret', async () => {
    const seen: string[] = [];
    const drafts: LinkDraft[] = [];
    const creds: [string, string][] = [
      ['alice', PAT.alice],
      ['alice', ALICE_PASSWORD],
      ['alice', NOT_A_PAT],
      ['bob', PAT.bob],
    ];
    const attempt = async (username: string, pat: string, namespace?: string) => {
      try {
        drafts.push(await dh.validate(ctx, { username, pat, ...(namespace ? { namespace } : {}) }));
      } catch (e) {
        expect(e).toBeInstanceOf(ProviderError);
        seen.push(JSON.stringify({ message: (e as ProviderError).message, details: (e as ProviderError).details }));
      }
      try {
        seen.push(JSON.stringify(await dh.checkHealth(ctx, link(username, pat, namespace ?? username))));
      } catch (e) {
        seen.push((e as ProviderError).message);
      }
    };
    const link = (username: string, pat: string, namespace: string) => ({
      org_id: 'org-acme',
      kind: 'docker_hub' as const,
      namespace,
      metadata: {},
      secret: { username, pat },
    });
    const scenarios: (() => void)[] = [
      () => {},
      () => (fake.knobs.failWith401 = true),
      () => (fake.knobs.authTokenRoute = 405),
      () => (fake.knobs.namespace404 = true),
      () => (fake.knobs.rateLimit = { retryAfterSeconds: 3 }),
      () => {
        fake.knobs.status = 500;
        fake.knobs.faultOn = 'lookups';
      },
      () => {
        fake.knobs.malformedBody = true;
        fake.knobs.faultOn = 'lookups';
      },
      () => (fake.knobs.oversizedBody = true),
    ];
    for (const setup of scenarios) {
      for (const [username, pat] of creds) {
        fake.reset();
        setup();
        await attempt(username, pat);
        await attempt(username, pat, 'acme');
        await attempt(username, pat, 'outsiders');
      }
    }
    // A PAT pasted into the namespace field.
    fake.reset();
    await attempt('alice', PAT.alice, PAT.alice);

    expect(seen.length).toBeGreaterThan(100);
    expect(drafts.length).toBeGreaterThan(5);
    const haystack = [...seen, ...drafts.map(({ secret: _s, ...rest }) => JSON.stringify(rest))].join('\n');
    const secrets = [...Object.values(PAT), ALICE_PASSWORD, NOT_A_PAT, ...fake.accessTokens.keys()];
    expect(fake.accessTokens.size).toBeGreaterThan(10);
    for (const s of secrets) expect(haystack).not.toContain(s);
    expect(haystack).toContain('[redacted]');
  });
});

describe('docker hub session token redaction', () => {
  it('redacts the session token minted from the PAT when the Hub echoes it back, on connect and on health', async () => {
    fake.knobs.echoSession = true;
    // The fake is shared by the file: only the sessions minted by these two calls count.
    const before = new Set(fake.accessTokens.keys());
    const connect = await rejection(dh.validate(ctx, { username: 'alice', pat: PAT.alice }));
    const health = await rejection(
      dh.checkHealth(ctx, {
        org_id: 'org-acme',
        kind: 'docker_hub',
        namespace: 'alice',
        metadata: {},
        secret: { username: 'alice', pat: PAT.alice },
      }),
    );
    const sessions = [...fake.accessTokens.keys()].filter((t) => !before.has(t));
    expect(sessions).toHaveLength(2);
    for (const error of [connect, health]) {
      expect(error.code).toBe('credential_rejected');
      expect(error.message).toContain('Token [redacted] is not valid');
      for (const jwt of sessions) expect(error.message).not.toContain(jwt.split('.')[1]);
    }
  });
});
