import { ProviderError } from '@alphaswarm/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../http';
import { must, rejectionFrom } from '../testing/assertions';
import { testContext } from '../testing/context';
import type { LinkDraft, ProviderContext } from '../types';
import { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from './fake';
import { provider as hf } from './provider';
import { HuggingFaceLinkMetadata } from './schemas';

const NOW = new Date('2026-06-01T12:00:00Z');
const inDays = (d: number) => new Date(NOW.getTime() + d * 86_400_000).toISOString();

const T = {
  read: 'hf_ReadClassicTokenAAAAAAAAAAAAAAAAAAAA',
  fine: 'hf_FineGrainedReadBBBBBBBBBBBBBBBBBBBBB',
  write: 'hf_WriteClassicCCCCCCCCCCCCCCCCCCCCCCCC',
  fineWrite: 'hf_FineGrainedWriteDDDDDDDDDDDDDDDDDDDD',
  fineNoOrg: 'hf_FineGrainedUserOnlyEEEEEEEEEEEEEEEEE',
  expiring: 'hf_ExpiringSoonFFFFFFFFFFFFFFFFFFFFFFFFF',
  unknown: 'hf_NotRegisteredGGGGGGGGGGGGGGGGGGGGGGG',
};

const alice = {
  name: 'alice',
  email: 'alice@example.com',
  orgs: ['acme-quant', { name: 'beta-labs', roleInOrg: 'admin' }],
};

let fake: HuggingFaceFake;
let ctx: ProviderContext;

beforeAll(async () => {
  fake = await startHuggingFaceFake({
    tokens: {
      [T.read]: hfProfile({ ...alice, tokenName: 'ci-read', role: 'read' }),
      [T.fine]: hfProfile({
        ...alice,
        tokenName: 'platform',
        role: 'fineGrained',
        fineGrained: {
          global: [],
          scoped: [
            { entity: { type: 'user', name: 'alice' }, permissions: ['repo.content.read'] },
            { entity: { type: 'org', name: 'acme-quant' }, permissions: ['repo.content.read'] },
          ],
        },
        expiration: inDays(90),
      }),
      [T.write]: hfProfile({ ...alice, tokenName: 'laptop', role: 'write' }),
      [T.fineWrite]: hfProfile({
        ...alice,
        tokenName: 'too-much',
        role: 'fineGrained',
        fineGrained: {
          global: ['discussion.write', 'user.billing.read'],
          scoped: [{ entity: { type: 'org', name: 'acme-quant' }, permissions: ['repo.content.read', 'repo.write'] }],
        },
      }),
      [T.fineNoOrg]: hfProfile({
        ...alice,
        tokenName: 'personal',
        role: 'fineGrained',
        fineGrained: { scoped: [{ entity: { type: 'user', name: 'alice' }, permissions: ['repo.content.read'] }] },
      }),
      [T.expiring]: hfProfile({ ...alice, tokenName: 'short-lived', role: 'read', expiration: inDays(5) }),
    },
  });
  // Trailing slash on purpose: the endpoint is normalised like huggingface_hub does.
  ctx = testContext({ upstreams: { huggingfaceEndpoint: `${fake.url}/` }, now: () => NOW });
});

afterEach(() => fake.reset());
afterAll(async () => {
  await ctx.http.close();
  await fake.close();
});

const rejection = rejectionFrom('Hugging Face');

describe('huggingface connect', () => {
  it('defaults the namespace to the token owner and stores only the token', async () => {
    const draft = await hf.validate(ctx, { token: T.read });
    expect(draft).toMatchObject({
      namespace: 'alice',
      status: 'healthy',
      error: null,
      warnings: [],
      secret: { token: T.read },
      expires_at: null,
    });
    expect(HuggingFaceLinkMetadata.parse(draft.metadata)).toEqual({
      type: 'user',
      auth_email: 'alice@example.com',
      orgs: ['acme-quant', 'beta-labs'],
      token_name: 'ci-read',
      token_role: 'read',
    });
    const req = must(fake.requests.at(-1));
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/api/whoami-v2');
    expect(req.headers.authorization).toBe(`Bearer ${T.read}`);
  });

  it('connects an explicit user namespace', async () => {
    const draft = await hf.validate(ctx, { token: T.fine, namespace: 'alice' });
    expect(draft.namespace).toBe('alice');
    expect(draft.metadata.type).toBe('user');
    expect(draft.status).toBe('healthy');
  });

  it('connects an org namespace with a fine-grained read token and records scopes and expiry', async () => {
    const draft = await hf.validate(ctx, { token: T.fine, namespace: 'acme-quant' });
    expect(draft.status).toBe('healthy');
    expect(draft.namespace).toBe('acme-quant');
    expect(draft.expires_at).toBe(inDays(90).replace('.000Z', 'Z'));
    expect(draft.metadata).toEqual({
      type: 'org',
      auth_email: 'alice@example.com',
      orgs: ['acme-quant', 'beta-labs'],
      token_name: 'platform',
      token_role: 'fineGrained',
      fine_grained: {
        scoped: [
          { entity: 'alice', type: 'user', permissions: ['repo.content.read'] },
          { entity: 'acme-quant', type: 'org', permissions: ['repo.content.read'] },
        ],
        global: [],
      },
      expires_at: inDays(90).replace('.000Z', 'Z'),
    });
  });

  it('refuses a namespace the token cannot reach, naming the ones it can', async () => {
    const e = await rejection(hf.validate(ctx, { token: T.read, namespace: 'other-co' }));
    expect(e.code).toBe('namespace_denied');
    expect(e.message).toContain('"other-co"');
    expect(e.message).toContain('alice, acme-quant, beta-labs');
  });

  it('maps 401 to credential_rejected with the upstream text (both observed bodies)', async () => {
    const e1 = await rejection(hf.validate(ctx, { token: T.unknown }));
    expect(e1.code).toBe('credential_rejected');
    expect(e1.details.status).toBe(401);
    expect(e1.message).toContain('Hugging Face rejected the token (HTTP 401: Invalid username or password.)');
    expect(e1.message).toContain('fine-grained read token');

    fake.knobs.unauthorizedBody = 'invalid_header';
    fake.knobs.failWith401 = true;
    const e2 = await rejection(hf.validate(ctx, { token: T.read }));
    expect(e2.code).toBe('credential_rejected');
    expect(e2.message).toContain('HTTP 401: Invalid credentials in Authorization header');
  });

  it('prefers X-Error-Message over the body', async () => {
    fake.knobs.failWith401 = true;
    fake.knobs.errorMessageHeader = 'Token was revoked';
    const e = await rejection(hf.validate(ctx, { token: T.read }));
    expect(e.message).toContain('HTTP 401: Token was revoked');
  });
});

describe('huggingface warnings', () => {
  it('degrades a classic write token', async () => {
    const draft = await hf.validate(ctx, { token: T.write, namespace: 'acme-quant' });
    expect(draft.status).toBe('degraded');
    expect(draft.metadata.token_role).toBe('write');
    expect(draft.warnings.map((w) => w.code)).toEqual(['token_over_privileged']);
    expect(draft.error).toEqual(draft.warnings[0]);
    expect(draft.error?.message).toContain('classic write role');
  });

  it('degrades a fine-grained token with write scopes, listing them', async () => {
    const draft = await hf.validate(ctx, { token: T.fineWrite, namespace: 'acme-quant' });
    expect(draft.status).toBe('degraded');
    expect(draft.warnings.map((w) => w.code)).toEqual(['token_over_privileged']);
    expect(draft.error?.message).toContain('acme-quant: repo.write');
    expect(draft.error?.message).toContain('global: discussion.write');
    expect(draft.error?.message).not.toContain('user.billing.read');
  });

  it('degrades a fine-grained token that has no access to the namespace; that warning comes first', async () => {
    const draft = await hf.validate(ctx, { token: T.fineNoOrg, namespace: 'beta-labs' });
    expect(draft.status).toBe('degraded');
    expect(draft.error?.code).toBe('namespace_not_in_token_scope');
    expect(draft.error?.message).toContain('"beta-labs"');

    const both = await hf.validate(ctx, { token: T.fineWrite, namespace: 'beta-labs' });
    expect(both.warnings.map((w) => w.code)).toEqual(['namespace_not_in_token_scope', 'token_over_privileged']);
    expect(both.error?.code).toBe('namespace_not_in_token_scope');
  });

  it('degrades a token expiring within 14 days, saying the date', async () => {
    const draft = await hf.validate(ctx, { token: T.expiring });
    expect(draft.status).toBe('degraded');
    expect(draft.expires_at).toBe('2026-06-06T12:00:00Z');
    expect(draft.metadata.expires_at).toBe('2026-06-06T12:00:00Z');
    expect(draft.error?.code).toBe('token_expiring');
    expect(draft.error?.message).toContain('2026-06-06');
    expect(draft.error?.message).toContain('in 5 days');
  });

  it('does not warn about expiry 15 days out', async () => {
    fake.addToken('hf_Later', hfProfile({ ...alice, role: 'read', expiration: inDays(15) }));
    const draft = await hf.validate(ctx, { token: 'hf_Later' });
    expect(draft.status).toBe('healthy');
  });
});

describe('huggingface upstream faults', () => {
  it('maps 429 to rate_limited with the Retry-After seconds', async () => {
    fake.knobs.rateLimit = { retryAfterSeconds: 42 };
    const e = await rejection(hf.validate(ctx, { token: T.read }));
    expect(e.code).toBe('rate_limited');
    expect(e.details.retryAfterSeconds).toBe(42);
    expect(e.message).toContain('in 42 s');
  });

  it('maps 500 to upstream_unavailable', async () => {
    fake.knobs.status = 500;
    const e = await rejection(hf.validate(ctx, { token: T.read }));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.details.status).toBe(500);
  });

  it('maps a slow answer to upstream_timeout', async () => {
    fake.knobs.delayMs = 1_000;
    const http = new HttpClient({ totalTimeoutMs: 300 });
    try {
      const slow = testContext({ upstreams: { huggingfaceEndpoint: fake.url }, http, now: () => NOW });
      const e = await rejection(hf.validate(slow, { token: T.read }));
      expect(e.code).toBe('upstream_timeout');
    } finally {
      await http.close();
    }
  });

  it('maps malformed JSON to upstream_unavailable', async () => {
    fake.knobs.malformedBody = true;
    const e = await rejection(hf.validate(ctx, { token: T.read }));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.message).toContain('not valid JSON');
  });

  it('maps a body of the wrong shape to upstream_unavailable', async () => {
    const broken = { ...hfProfile({ name: 'x' }), name: 42 } as unknown as ReturnType<typeof hfProfile>;
    fake.addToken('hf_Broken', broken);
    const e = await rejection(hf.validate(ctx, { token: 'hf_Broken' }));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.message).toContain('"name"');
  });

  it('refuses an oversized body', async () => {
    fake.knobs.oversizedBody = true;
    const e = await rejection(hf.validate(ctx, { token: T.read }));
    expect(e.code).toBe('upstream_unavailable');
    expect(e.message).toContain('larger than');
  });
});

describe('huggingface health and issue', () => {
  const link = (token: string, namespace: string) => ({
    org_id: 'org-acme',
    kind: 'huggingface' as const,
    namespace,
    metadata: {},
    secret: { token },
  });

  it('reports healthy and degraded from the probe, and throws a rejection for the caller to judge', async () => {
    expect(await hf.checkHealth(ctx, link(T.fine, 'acme-quant'))).toMatchObject({ status: 'healthy', error: null });
    const expiring = await hf.checkHealth(ctx, link(T.expiring, 'alice'));
    expect(expiring).toMatchObject({
      status: 'degraded',
      error: { code: 'token_expiring' },
      expires_at: '2026-06-06T12:00:00Z',
    });
    expect(expiring.metadata?.token_name).toBe('short-lived');

    fake.knobs.failWith401 = true;
    const rejected = await rejection(hf.checkHealth(ctx, link(T.fine, 'acme-quant')));
    expect(rejected.code).toBe('credential_rejected');
    expect(rejected.message).toContain('Hugging Face rejected the token (HTTP 401');

    fake.reset();
    const left = await rejection(hf.checkHealth(ctx, link(T.fine, 'gone-org')));
    expect(left.code).toBe('namespace_denied');
    expect(left.message).toContain('"gone-org"');
  });

  it('throws on a transient fault too, for the caller to degrade rather than condemn the link', async () => {
    fake.knobs.status = 503;
    const e = await rejection(hf.checkHealth(ctx, link(T.fine, 'acme-quant')));
    expect(e.code).toBe('upstream_unavailable');
  });

  it('issues the token with the namespace', async () => {
    expect(await hf.issueCredentials(ctx, link(T.fine, 'acme-quant'))).toEqual({
      kind: 'huggingface',
      token: T.fine,
      namespace: 'acme-quant',
    });
    const e = await rejection(hf.issueCredentials(ctx, { ...link(T.fine, 'acme-quant'), secret: null }));
    expect(e.code).toBe('secret_unreadable');
  });
});

describe('huggingface secret canary', () => {
  it('never puts the token in an error message or a draft field other than secret', async () => {
    const seen: string[] = [];
    const drafts: LinkDraft[] = [];
    const attempt = async (token: string, namespace?: string) => {
      try {
        drafts.push(await hf.validate(ctx, { token, ...(namespace ? { namespace } : {}) }));
      } catch (e) {
        expect(e).toBeInstanceOf(ProviderError);
        seen.push(JSON.stringify({ message: (e as ProviderError).message, details: (e as ProviderError).details }));
      }
      try {
        const h = await hf.checkHealth(ctx, {
          org_id: 'org-acme',
          kind: 'huggingface',
          namespace: namespace ?? 'alice',
          metadata: {},
          secret: { token },
        });
        seen.push(JSON.stringify(h));
      } catch (e) {
        seen.push((e as ProviderError).message);
      }
    };
    const scenarios: (() => void)[] = [
      () => {},
      () => (fake.knobs.failWith401 = true),
      () => (fake.knobs.rateLimit = { retryAfterSeconds: 3 }),
      () => (fake.knobs.status = 500),
      () => (fake.knobs.malformedBody = true),
      () => (fake.knobs.oversizedBody = true),
    ];
    for (const setup of scenarios) {
      for (const token of Object.values(T)) {
        fake.reset();
        setup();
        await attempt(token);
        await attempt(token, 'acme-quant');
        await attempt(token, 'nobody-here');
      }
    }
    // An upstream that echoes the token back, and a token pasted into the namespace field.
    fake.reset();
    fake.knobs.failWith401 = true;
    fake.knobs.errorMessageHeader = `bad token ${T.read}`;
    await attempt(T.read);
    fake.reset();
    await attempt(T.read, T.read);

    expect(seen.length).toBeGreaterThan(100);
    expect(drafts.length).toBeGreaterThan(10);
    const haystack = [...seen, ...drafts.map(({ secret: _s, ...rest }) => JSON.stringify(rest))].join('\n');
    for (const token of Object.values(T)) expect(haystack).not.toContain(token);
    expect(haystack).toContain('[redacted]');
  });
});
