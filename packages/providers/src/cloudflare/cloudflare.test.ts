import { randomBytes } from 'node:crypto';
import { type CloudflareSecret, type IdentityResult, isProviderError } from '@alphaswarm/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../testing/assertions';
import { testContext } from '../testing/context';
import type { LinkDraft, ProviderContext, StoredLink, WizardContext } from '../types';
import { CF_GROUPS, type CloudflareFake, type CloudflareFakePolicy, startCloudflareFake } from './fake';
import { broadness, isGranted, PERMISSION_GROUPS } from './policies';
import { provider as cloudflareProvider } from './provider';

const DAY = 86_400_000;
let fake: CloudflareFake;
let ctx: ProviderContext;

beforeAll(async () => {
  fake = await startCloudflareFake();
  ctx = testContext({ upstreams: { cloudflare: { apiUrl: fake.apiUrl, maxTtlDays: 90 } } });
});
afterAll(async () => fake?.close());
afterEach(() => {
  fake.clearFaults();
  fake.knobs.rateLimitNext = 0;
  fake.knobs.echoAuthorizationInErrors = false;
});

const hex = () => randomBytes(16).toString('hex');
const inDays = (d: number) => new Date(Date.now() + d * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

function goodPolicies(
  account: string,
  extra: { account?: CloudflareFakePolicy['permission_groups'] } = {},
): CloudflareFakePolicy[] {
  return [
    {
      effect: 'allow',
      resources: { [`com.cloudflare.api.account.${account}`]: '*' },
      permission_groups: [CF_GROUPS.accountSettingsRead, CF_GROUPS.accountTokensRead, ...(extra.account ?? [])],
    },
    {
      effect: 'allow',
      resources: { [`com.cloudflare.api.account.${account}`]: { 'com.cloudflare.api.account.zone.*': '*' } },
      permission_groups: [CF_GROUPS.zoneRead, CF_GROUPS.dnsRead],
    },
  ];
}

interface Setup {
  org_id: string;
  account_id: string;
  token_id: string;
  value: string;
}

/** An account with `zones` zones and one token; `policies`/`expires_on` override the well-scoped default. */
function setup(
  opts: {
    zones?: number;
    expires_on?: string | null;
    status?: 'active' | 'disabled' | 'expired';
    policies?: (account: string) => CloudflareFakePolicy[];
    owner?: 'account' | 'user';
  } = {},
): Setup {
  const s: Setup = {
    org_id: `org-${hex().slice(0, 6)}`,
    account_id: hex(),
    token_id: hex(),
    value: `CANARY${randomBytes(24).toString('base64url')}`,
  };
  fake.addAccount({ id: s.account_id, name: `Account ${s.org_id}` });
  for (let i = 0; i < (opts.zones ?? 2); i++)
    fake.addZone({ id: hex(), name: `z${i}.${s.org_id}.example`, account_id: s.account_id });
  const expires = opts.expires_on === undefined ? inDays(60) : opts.expires_on;
  fake.addToken({
    id: s.token_id,
    value: s.value,
    account_id: s.account_id,
    owner: opts.owner ?? 'account',
    status: opts.status ?? 'active',
    ...(expires ? { expires_on: expires } : {}),
    policies: (opts.policies ?? goodPolicies)(s.account_id),
  });
  return s;
}

type W = WizardContext<'cloud_cloudflare'> & {
  params: { account_id: string; api_token: string; accept_broad_token?: boolean };
};

function wizard(s: Setup, extra: { accept_broad_token?: boolean; api_token?: string } = {}): W {
  return {
    org_id: s.org_id,
    kind: 'cloud_cloudflare',
    subject: `org:${s.org_id}:cloud_cloudflare`,
    params: {
      account_id: s.account_id,
      api_token: extra.api_token ?? s.value,
      ...(extra.accept_broad_token ? { accept_broad_token: true } : {}),
    },
    identity: null,
  };
}

/** Steps 2–5 of the wizard. */
async function runWizard(w: W): Promise<{ identity: IdentityResult; draft: LinkDraft<CloudflareSecret> }> {
  const identity = await cloudflareProvider.validateIdentity(ctx, w);
  const withId = { ...w, identity };
  const checks = await cloudflareProvider.validatePermissions(ctx, withId);
  const resources = await cloudflareProvider.enumerateResources(ctx, withId);
  const draft = await cloudflareProvider.toLink(ctx, withId, checks, resources);
  return { identity, draft };
}

function storedLink(s: Setup, draft: LinkDraft<CloudflareSecret>): StoredLink<CloudflareSecret> {
  return {
    org_id: s.org_id,
    kind: 'cloud_cloudflare',
    namespace: draft.namespace,
    metadata: draft.metadata,
    secret: draft.secret,
  };
}

describe('cloudflare wizard end to end against the fake', () => {
  it('bootstraps a token template, validates, checks policies, pages zones, links, checks health, issues', async () => {
    const s = setup({ zones: 120 });
    const w = wizard(s);

    const boot = await cloudflareProvider.bootstrapArtifacts(ctx, w);
    expect(boot.audience).toBe('cloudflare-api-token');
    expect(boot.links[0]?.url).toBe(`https://dash.cloudflare.com/${s.account_id}/api-tokens`);
    const tf = boot.artifacts.find((a) => a.name === 'main.tf')!.content;
    const template = JSON.parse(boot.artifacts.find((a) => a.name === 'cloudflare-token-template.json')!.content);
    expect(tf).toContain('resource "cloudflare_account_token"');
    expect(tf).toContain('jsonencode(');
    for (const g of ['Account Settings Read', 'Zone Read', 'Account API Tokens Read', 'DNS Read'])
      expect(tf).toContain(`"${g}"`);
    expect(Date.parse(template.expires_on)).toBeLessThanOrEqual(Date.now() + 90 * DAY);
    expect(Date.parse(template.expires_on)).toBeGreaterThan(Date.now() + 88 * DAY);
    expect(tf).toContain(`default     = "${template.expires_on}"`);

    const identity = await cloudflareProvider.validateIdentity(ctx, w);
    expect(identity.principal).toBe(s.token_id);
    expect(identity.details).toMatchObject({ status: 'active', account_id: s.account_id, token_owner: 'account' });
    expect(identity.details.expires_on).toMatch(/^\d{4}-\d\d-\d\dT/);

    const withId = { ...w, identity };
    const checks = await cloudflareProvider.validatePermissions(ctx, withId);
    const byName = Object.fromEntries(checks.map((c) => [c.permission, c]));
    expect(byName['Account Settings Read']).toMatchObject({
      required: true,
      granted: true,
      scope: `com.cloudflare.api.account.${s.account_id}`,
    });
    expect(byName['Zone Read']).toMatchObject({ required: true, granted: true });
    expect(byName['Account API Tokens Read']).toMatchObject({ required: true, granted: true });
    expect(byName['DNS Read']).toMatchObject({ required: false, granted: true });
    expect(byName['Account API Tokens Write']).toMatchObject({ required: false, granted: false });

    const resources = await cloudflareProvider.enumerateResources(ctx, withId);
    expect(resources.truncated).toBe(false);
    expect(resources.resources.filter((r) => r.type === 'cloudflare_zone')).toHaveLength(120);
    expect(resources.resources.filter((r) => r.type === 'cloudflare_account').map((r) => r.id)).toEqual([s.account_id]);
    const zonePages = fake.server.requests.filter(
      (r) => r.path.endsWith('/zones') && r.query.get('account.id') === s.account_id,
    );
    expect(zonePages.map((r) => r.query.get('page'))).toEqual(['1', '2', '3']);

    const draft = await cloudflareProvider.toLink(ctx, withId, checks, resources);
    expect(draft).toMatchObject({
      namespace: s.account_id,
      secret: { api_token: s.value, token_id: s.token_id },
      status: 'healthy',
      error: null,
      expires_at: identity.details.expires_on,
    });
    expect(draft.metadata).toEqual({
      account_id: s.account_id,
      token_id: s.token_id,
      expires_on: identity.details.expires_on,
      permission_groups: ['Account API Tokens Read', 'Account Settings Read', 'DNS Read', 'Zone Read'],
      token_owner: 'account',
    });
    // The optional rotation group is reported, but does not degrade the link.
    expect(draft.warnings.map((w) => w.code)).toEqual(['permission_missing']);

    const link = storedLink(s, draft);
    expect(await cloudflareProvider.checkHealth(ctx, link)).toMatchObject({ status: 'healthy', error: null });
    expect(await cloudflareProvider.issueCredentials(ctx, link)).toEqual({
      kind: 'cloud_cloudflare',
      api_token: s.value,
      account_id: s.account_id,
      expires_at: identity.details.expires_on,
    });
    // Bearer token on every request; verify went to the account route.
    expect(fake.server.requests.some((r) => r.path === `/client/v4/accounts/${s.account_id}/tokens/verify`)).toBe(true);
  });

  it('falls back to /user/tokens/verify for a user-owned token', async () => {
    const s = setup({
      owner: 'user',
      policies: (a) => [
        {
          effect: 'allow',
          resources: { [`com.cloudflare.api.account.${a}`]: '*' },
          permission_groups: [CF_GROUPS.accountSettingsRead],
        },
        {
          effect: 'allow',
          resources: { 'com.cloudflare.api.user.abc': '*' },
          permission_groups: [{ id: 'u1', name: 'API Tokens Read' }],
        },
        {
          effect: 'allow',
          resources: { [`com.cloudflare.api.account.${a}`]: { 'com.cloudflare.api.account.zone.*': '*' } },
          permission_groups: [CF_GROUPS.zoneRead],
        },
      ],
    });
    const { identity, draft } = await runWizard(wizard(s));
    expect(identity.details.token_owner).toBe('user');
    expect(draft.metadata.token_owner).toBe('user');
    expect(fake.server.requests.some((r) => r.path === '/client/v4/user/tokens/verify')).toBe(true);
    expect(fake.server.requests.some((r) => r.path === `/client/v4/user/tokens/${s.token_id}`)).toBe(true);
  });
});

describe('cloudflare token policy', () => {
  it('refuses a token without expiry, saying what to set', async () => {
    const s = setup({ expires_on: null });
    const error = await rejection(cloudflareProvider.validateIdentity(ctx, wizard(s)));
    expect(error).toMatchObject({ code: 'invalid_request', upstream: 'Cloudflare', details: { field: 'api_token' } });
    expect(error.message).toContain('no expiry');
    expect(error.message).toMatch(/\d{4}-\d\d-\d\d or earlier/);
  });

  it('refuses a token expiring beyond the maximum TTL', async () => {
    const s = setup({ expires_on: inDays(120) });
    const error = await rejection(cloudflareProvider.validateIdentity(ctx, wizard(s)));
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('more than 90 days ahead');
    expect(error.message).toContain(inDays(120).slice(0, 10));
  });

  it('refuses expired and disabled tokens as rejected credentials', async () => {
    const expired = setup({ expires_on: inDays(-1) });
    expect(await rejection(cloudflareProvider.validateIdentity(ctx, wizard(expired)))).toMatchObject({
      code: 'credential_rejected',
    });
    const disabled = setup({ status: 'disabled' });
    const error = await rejection(cloudflareProvider.validateIdentity(ctx, wizard(disabled)));
    expect(error.code).toBe('credential_rejected');
    expect(error.message).toContain('disabled');
  });

  it('refuses an over-broad token, and links it as degraded only with accept_broad_token', async () => {
    const s = setup({
      policies: (a) => [
        ...goodPolicies(a),
        {
          effect: 'allow',
          resources: { 'com.cloudflare.api.account.*': '*' },
          permission_groups: [CF_GROUPS.accountSettingsRead],
        },
      ],
    });
    const identity = await cloudflareProvider.validateIdentity(ctx, wizard(s));
    const refused = await rejection(cloudflareProvider.validatePermissions(ctx, { ...wizard(s), identity }));
    expect(refused.code).toBe('invalid_request');
    expect(refused.message).toContain('all accounts');
    expect(refused.message).toContain('accept_broad_token');

    const { draft } = await runWizard(wizard(s, { accept_broad_token: true }));
    expect(draft.status).toBe('degraded');
    expect(draft.error?.code).toBe('token_too_broad');
    expect(draft.error?.message).toContain('all accounts');
  });

  it('refuses a token carrying a Write/Edit group the platform does not need', async () => {
    const s = setup({ policies: (a) => goodPolicies(a, { account: [CF_GROUPS.zoneWrite] }) });
    const identity = await cloudflareProvider.validateIdentity(ctx, wizard(s));
    const refused = await rejection(cloudflareProvider.validatePermissions(ctx, { ...wizard(s), identity }));
    expect(refused.code).toBe('invalid_request');
    expect(refused.message).toContain('"Zone Write"');
  });

  it('a token that cannot read its own policies fails the self-read check and cannot be linked', async () => {
    const s = setup({
      policies: (a) => [
        {
          effect: 'allow',
          resources: { [`com.cloudflare.api.account.${a}`]: '*' },
          permission_groups: [CF_GROUPS.accountSettingsRead],
        },
        {
          effect: 'allow',
          resources: { 'com.cloudflare.api.account.zone.*': '*' },
          permission_groups: [CF_GROUPS.zoneRead],
        },
      ],
    });
    const w = wizard(s);
    const identity = await cloudflareProvider.validateIdentity(ctx, w);
    const checks = await cloudflareProvider.validatePermissions(ctx, { ...w, identity });
    expect(checks.find((c) => c.permission === 'Account API Tokens Read')).toMatchObject({
      required: true,
      granted: false,
    });
    const error = await rejection(cloudflareProvider.toLink(ctx, { ...w, identity }, checks, null));
    expect(error.code).toBe('permission_missing');
    expect(error.message).toContain('"Account API Tokens Read"');
  });

  it('evaluates deny policies, nested resources and other accounts', () => {
    const a = hex();
    const zone = PERMISSION_GROUPS.find((g) => g.name === 'Zone Read')!;
    const nested = [
      {
        effect: 'allow' as const,
        resources: { [`com.cloudflare.api.account.${a}`]: { 'com.cloudflare.api.account.zone.*': '*' } },
        permission_groups: [CF_GROUPS.zoneRead],
      },
    ];
    expect(isGranted(nested, zone, a)).toBe(true);
    expect(isGranted(nested, zone, hex())).toBe(false);
    const denied = [
      ...nested,
      {
        effect: 'deny' as const,
        resources: { [`com.cloudflare.api.account.${a}`]: '*' },
        permission_groups: [CF_GROUPS.zoneRead],
      },
    ];
    expect(isGranted(denied, zone, a)).toBe(false);
    expect(broadness(nested, a)).toEqual([]);
    const other = hex();
    expect(
      broadness(
        [
          {
            effect: 'allow',
            resources: { [`com.cloudflare.api.account.${other}`]: '*' },
            permission_groups: [CF_GROUPS.dnsRead],
          },
        ],
        a,
      )[0],
    ).toContain(other);
    // A deny policy never makes a token broader.
    expect(
      broadness(
        [
          {
            effect: 'deny',
            resources: { 'com.cloudflare.api.account.*': '*' },
            permission_groups: [CF_GROUPS.dnsWrite],
          },
        ],
        a,
      ),
    ).toEqual([]);
  });
});

describe('cloudflare expiry watch', () => {
  it('links a token expiring within 14 days as degraded and health says the date', async () => {
    const expires = inDays(10);
    const s = setup({ expires_on: expires });
    const { draft } = await runWizard(wizard(s));
    expect(draft.status).toBe('degraded');
    expect(draft.error?.code).toBe('credential_expiring');
    expect(draft.error?.message).toContain(expires.slice(0, 10));
    const health = await cloudflareProvider.checkHealth(ctx, storedLink(s, draft));
    expect(health.status).toBe('degraded');
    expect(health.error?.message).toContain(expires.slice(0, 10));
    expect(health.expires_at).toBe(expires);
  });

  it('health goes unhealthy once the token expires or is disabled', async () => {
    const s = setup();
    const { draft } = await runWizard(wizard(s));
    const link = storedLink(s, draft);
    fake.token(s.token_id)!.status = 'disabled';
    expect(await cloudflareProvider.checkHealth(ctx, link)).toMatchObject({
      status: 'unhealthy',
      error: { code: 'credential_rejected' },
    });
    fake.token(s.token_id)!.status = 'active';
    fake.token(s.token_id)!.expires_on = inDays(-1);
    expect(await cloudflareProvider.checkHealth(ctx, link)).toMatchObject({
      status: 'unhealthy',
      error: { code: 'credential_rejected' },
    });
    await expect(
      cloudflareProvider.issueCredentials(ctx, { ...link, metadata: { ...link.metadata, expires_on: inDays(-1) } }),
    ).rejects.toMatchObject({
      code: 'credential_rejected',
    });
  });
});

describe('cloudflare rotation', () => {
  it('rolls the secret; the old value is dead upstream at once', async () => {
    const s = setup({ policies: (a) => goodPolicies(a, { account: [CF_GROUPS.accountTokensWrite] }) });
    const { draft } = await runWizard(wizard(s));
    expect(draft.status).toBe('healthy');
    const link = storedLink(s, draft);
    const rotated = await cloudflareProvider.rotateSecret!(ctx, link);
    expect(rotated.secret.token_id).toBe(s.token_id);
    expect(rotated.secret.api_token).not.toBe(s.value);
    expect(rotated.secret.api_token).toBe(fake.token(s.token_id)!.value);
    expect(rotated.expires_at).toBe(draft.expires_at);
    const roll = fake.server.requests.find((r) => r.method === 'PUT')!;
    expect(roll.path).toBe(`/client/v4/accounts/${s.account_id}/tokens/${s.token_id}/value`);
    expect(JSON.parse(roll.body)).toEqual({});

    const old = await rejection(cloudflareProvider.checkHealth(ctx, link));
    expect(old.code).toBe('credential_rejected');
    expect(old.message).toContain('Cloudflare does not accept the API token');
    const fresh = await cloudflareProvider.checkHealth(ctx, { ...link, secret: rotated.secret });
    expect(fresh.status).toBe('healthy');
  });

  it('without Account API Tokens Write, rotation is refused with what to do instead', async () => {
    const s = setup();
    const { draft } = await runWizard(wizard(s));
    const error = await rejection(cloudflareProvider.rotateSecret!(ctx, storedLink(s, draft)));
    expect(error.code).toBe('permission_missing');
    expect(error.message).toContain('Account API Tokens Write');
    expect(fake.token(s.token_id)!.value).toBe(s.value);
  });
});

describe('cloudflare upstream errors', () => {
  it('unknown token → credential_rejected; malformed header → invalid_request', async () => {
    const s = setup();
    const unknown = await rejection(cloudflareProvider.validateIdentity(ctx, wizard(s, { api_token: 'x'.repeat(40) })));
    expect(unknown.code).toBe('credential_rejected');
    expect(unknown.message).toContain('1000');
    const malformed = await rejection(cloudflareProvider.validateIdentity(ctx, wizard(s, { api_token: 'abc.def!' })));
    expect(malformed).toMatchObject({ code: 'invalid_request', details: { field: 'api_token' } });
    expect(malformed.message).toContain('6003');
  });

  it('429 → rate_limited with Retry-After; 5xx → upstream_unavailable; health rethrows transient faults', async () => {
    const s = setup();
    const { draft } = await runWizard(wizard(s));
    fake.knobs.rateLimitNext = 1;
    const limited = await rejection(cloudflareProvider.validateIdentity(ctx, wizard(s)));
    expect(limited).toMatchObject({ code: 'rate_limited', details: { status: 429, retryAfterSeconds: 30 } });
    fake.failNext(503);
    expect(
      await rejection(
        cloudflareProvider.enumerateResources(ctx, { ...wizard(s), identity: { principal: s.token_id, details: {} } }),
      ),
    ).toMatchObject({
      code: 'upstream_unavailable',
    });
    fake.failNext(502);
    await expect(cloudflareProvider.checkHealth(ctx, storedLink(s, draft))).rejects.toMatchObject({
      code: 'upstream_unavailable',
    });
  });
});

describe('cloudflare secret boundary (canary)', () => {
  it('no ProviderError message and no non-secret LinkDraft field carries the token', async () => {
    fake.knobs.echoAuthorizationInErrors = true;
    const seen: string[] = [];
    const tokens: string[] = [];
    const collect = async (p: Promise<unknown>, token: string) => {
      tokens.push(token);
      try {
        await p;
      } catch (error) {
        if (!isProviderError(error)) throw error;
        seen.push(JSON.stringify({ message: error.message, details: error.details, upstream: error.upstream }));
      }
    };

    const good = setup({ expires_on: inDays(5) });
    const { identity, draft } = await runWizard(wizard(good));
    const { secret, ...publicPart } = draft;
    seen.push(JSON.stringify(publicPart), JSON.stringify(identity));
    tokens.push(good.value);

    const noExpiry = setup({ expires_on: null });
    await collect(cloudflareProvider.validateIdentity(ctx, wizard(noExpiry)), noExpiry.value);
    const broad = setup({ policies: (a) => goodPolicies(a, { account: [CF_GROUPS.dnsWrite] }) });
    await collect(
      cloudflareProvider.validatePermissions(ctx, {
        ...wizard(broad),
        identity: await cloudflareProvider.validateIdentity(ctx, wizard(broad)),
      }),
      broad.value,
    );
    const wrong = `CANARY${randomBytes(24).toString('base64url')}`;
    await collect(cloudflareProvider.validateIdentity(ctx, wizard(good, { api_token: wrong })), wrong);
    const malformed = `CANARY.${randomBytes(24).toString('hex')}`;
    await collect(cloudflareProvider.validateIdentity(ctx, wizard(good, { api_token: malformed })), malformed);
    await collect(cloudflareProvider.rotateSecret!(ctx, storedLink(good, draft)), good.value);
    const health = await rejection(
      cloudflareProvider.checkHealth(ctx, {
        ...storedLink(good, draft),
        secret: { api_token: wrong, token_id: good.token_id },
      }),
    );
    seen.push(JSON.stringify({ message: health.message, details: health.details, upstream: health.upstream }));

    expect(seen.length).toBeGreaterThanOrEqual(7);
    for (const text of seen) {
      for (const token of tokens) expect(text).not.toContain(token);
    }
  });
});
