import { randomUUID } from 'node:crypto';
import { isProviderError, type ProviderError } from '@alphaswarm/contracts';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { awsProvider } from './aws';
import { startAwsFake } from './aws/fake';
import { azureProvider } from './azure';
import { startAzureFake } from './azure/fake';
import { cloudflareProvider } from './cloudflare';
import { startCloudflareFake } from './cloudflare/fake';
import { dockerHubProvider } from './docker-hub';
import { startDockerHubFake } from './docker-hub/fake';
import { gcpProvider } from './gcp';
import { startGcpFake } from './gcp/fake';
import { HttpClient } from './http';
import { huggingfaceProvider } from './huggingface';
import { startHuggingFaceFake } from './huggingface/fake';
import { testContext } from './testing/context';
import { faults, type UpstreamFault } from './testing/fake-server';
import { generateTestCertificate, type TestTlsMaterial } from './testing/tls';
import { startTestWorkloadIssuer, type TestWorkloadIssuer } from './testing/workload-issuer';
import type { ProviderContext, UpstreamConfig } from './types';

/*
 * The upstream half of the fault suite: every kind, through its real SDK or HTTP client, against
 * its loopback fake playing an upstream that hangs, trickles a byte at a time, or answers 50 MB.
 * Each call must end within the configured deadline with a typed error naming the upstream, read
 * no more than a sliver of the flood, and never echo a secret.
 */

/**
 * The deadline a hang or a trickle must be cut off by: long enough that a loaded machine finishes
 * the healthy parts of a call (TLS, MSAL, signing) inside it. A flood must be cut off by the size
 * cap alone, so its deadline is far away.
 */
const DEADLINE_MS = 750;
const FLOOD_DEADLINE_MS = 10_000;
const MAX_BODY_BYTES = 256 * 1024;
/** Event-loop stalls on a busy 2-core machine; far below what an unbounded call takes (minutes). */
const SLACK_MS = 1_000;
/** A client that stops at the cap leaves at most socket buffers' worth unread; one that reads on takes all 50 MB. */
const FLOOD_READ_LIMIT = 16 * 1024 * 1024;

interface Row {
  kind: string;
  /** `upstream` of the ProviderError. */
  upstream: string;
  /** The service its message names. */
  service: string;
  /** A longer deadline for a call that must first get through a healthy hop (ARM needs an Entra token). */
  minDeadlineMs?: number;
  /** Start a fake playing `fault` and return the provider call to make against it. */
  arm(fault: UpstreamFault): Promise<Armed>;
}

interface Armed {
  call: (ctx: ProviderContext) => Promise<unknown>;
  upstreams: Partial<UpstreamConfig>;
  secrets: string[];
  close(): Promise<void>;
}

let issuer: TestWorkloadIssuer;
let tls: TestTlsMaterial;
const minted: string[] = [];

beforeAll(async () => {
  [issuer, tls] = await Promise.all([startTestWorkloadIssuer(), generateTestCertificate()]);
  // One untimed round per kind first: the SDKs load code lazily on first use, and that blocking
  // work must not land inside the timed cases below, which run side by side.
  for (const row of rows) {
    const { call, upstreams, close } = await row.arm(faults.flood(1024 * 1024));
    const http = new HttpClient({ maxBodyBytes: MAX_BODY_BYTES, ...(upstreams.tlsCa ? { ca: upstreams.tlsCa } : {}) });
    await call(testContext({ upstreams, workload: issuer, http })).catch(() => undefined);
    await close();
    await http.close();
  }
});
afterAll(async () => {
  await issuer?.close();
});

/** Our workload issuer, remembering every subject token it minted (they must never surface in an error). */
function recordingIssuer() {
  return {
    issuer: issuer.issuer,
    mint: async (claims: { sub: string; aud: string }) => {
      const token = await issuer.mint(claims);
      minted.push(token);
      return token;
    },
  };
}

const org = () => `org-${randomUUID().slice(0, 8)}`;

const rows: Row[] = [
  {
    kind: 'huggingface',
    upstream: 'Hugging Face',
    service: 'Hugging Face',
    async arm(fault) {
      const fake = await startHuggingFaceFake({ knobs: { fault } });
      const token = `hf_canary${randomUUID().replace(/-/g, '')}`;
      return {
        upstreams: { huggingfaceEndpoint: fake.url },
        secrets: [token],
        close: fake.close,
        call: (ctx) => huggingfaceProvider.validate(ctx, { token }),
      };
    },
  },
  {
    kind: 'docker_hub',
    upstream: 'Docker Hub',
    service: 'Docker Hub',
    async arm(fault) {
      const fake = await startDockerHubFake({ knobs: { fault } });
      const pat = `dckr_pat_canary${randomUUID()}`;
      return {
        upstreams: { dockerHubUrl: fake.url },
        secrets: [pat],
        close: fake.close,
        call: (ctx) => dockerHubProvider.validate(ctx, { username: 'acme', pat }),
      };
    },
  },
  {
    kind: 'cloud_aws',
    upstream: 'AWS',
    service: 'AWS STS',
    async arm(fault) {
      const fake = await startAwsFake();
      fake.knobs.fault = fault;
      const org_id = org();
      const params = { role_arn: 'arn:aws:iam::123456789012:role/AlphaSwarmReadOnly' };
      return {
        upstreams: { aws: fake.upstream() },
        secrets: [],
        close: fake.close,
        call: (ctx) =>
          awsProvider.validateIdentity(ctx, {
            org_id,
            kind: 'cloud_aws',
            subject: `org:${org_id}:cloud_aws`,
            params,
            identity: null,
          }),
      };
    },
  },
  {
    kind: 'cloud_gcp',
    upstream: 'Google Cloud',
    service: 'Google STS',
    async arm(fault) {
      const fake = await startGcpFake();
      fake.knobs.fault = fault;
      const org_id = org();
      const params = {
        workload_identity_provider:
          'projects/415104041262/locations/global/workloadIdentityPools/alphaswarm/providers/alphaswarm-oidc',
        service_account_email: 'reader@tokyo-rain-123.iam.gserviceaccount.com',
        project_id: 'tokyo-rain-123',
      };
      return {
        upstreams: { gcp: fake.upstream() },
        secrets: [],
        close: fake.close,
        call: (ctx) =>
          gcpProvider.validateIdentity(ctx, {
            org_id,
            kind: 'cloud_gcp',
            subject: `org:${org_id}:cloud_gcp`,
            params,
            identity: null,
          }),
      };
    },
  },
  ...(['login', 'arm'] as const).map(
    (target): Row => ({
      kind: `cloud_azure (${target === 'login' ? 'Entra token' : 'ARM'})`,
      upstream: target === 'login' ? 'Microsoft Entra ID' : 'Azure Resource Manager',
      service: target === 'login' ? 'Microsoft Entra ID' : 'Azure Resource Manager',
      ...(target === 'arm' ? { minDeadlineMs: 2_000 } : {}),
      async arm(fault) {
        const fake = await startAzureFake({ tls });
        const org_id = org();
        const subject = `org:${org_id}:cloud_azure`;
        const params = { tenant_id: randomUUID(), client_id: randomUUID() };
        fake.addApp({
          ...params,
          object_id: randomUUID(),
          federated: { issuer: issuer.issuer, subject, audience: 'api://AzureADTokenExchange' },
        });
        fake.knobs.fault = { target, play: fault };
        const wizard = { org_id, kind: 'cloud_azure' as const, subject, params };
        return {
          upstreams: { azure: { authorityHost: fake.authorityHost, armEndpoint: fake.armEndpoint }, tlsCa: tls.cert },
          secrets: [],
          close: fake.close,
          call: (ctx) =>
            target === 'login'
              ? azureProvider.validateIdentity(ctx, { ...wizard, identity: null })
              : azureProvider.validatePermissions(ctx, { ...wizard, identity: { principal: 'sp', details: {} } }),
        };
      },
    }),
  ),
  {
    kind: 'cloud_cloudflare',
    upstream: 'Cloudflare',
    service: 'Cloudflare',
    async arm(fault) {
      const fake = await startCloudflareFake();
      fake.knobs.fault = fault;
      const org_id = org();
      const params = { account_id: 'a'.repeat(32), api_token: `cf-canary-${randomUUID()}` };
      return {
        upstreams: { cloudflare: { apiUrl: fake.apiUrl, maxTtlDays: 90 } },
        secrets: [params.api_token],
        close: fake.close,
        call: (ctx) =>
          cloudflareProvider.validateIdentity(ctx, {
            org_id,
            kind: 'cloud_cloudflare',
            subject: `org:${org_id}:cloud_cloudflare`,
            params,
            identity: null,
          }),
      };
    },
  },
];

const cases = [
  { name: 'hangs', fault: faults.hang, code: 'upstream_timeout', deadlineMs: DEADLINE_MS },
  {
    name: 'trickles one byte at a time',
    fault: () => faults.trickle(20),
    code: 'upstream_timeout',
    deadlineMs: DEADLINE_MS,
  },
  {
    name: 'answers 50 MB',
    fault: () => faults.flood(50 * 1024 * 1024),
    code: 'upstream_unavailable',
    deadlineMs: FLOOD_DEADLINE_MS,
  },
] as const;

/** The call's ProviderError, or a failure when it succeeds, throws something else, or outlives `ms`. */
async function settledError(p: Promise<unknown>, ms: number): Promise<ProviderError> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    p.then(
      () => new Error('the call succeeded'),
      (error: unknown) => error,
    ),
    new Promise<Error>((resolve) => {
      timer = setTimeout(() => resolve(new Error(`the call was still running after ${ms} ms`)), ms);
    }),
  ]);
  clearTimeout(timer);
  if (isProviderError(outcome)) return outcome;
  throw outcome;
}

/**
 * One run of `row`'s call against a fresh fake playing `fault`. A run in which the fault never met
 * a request (on a starved machine the healthy hop before it, e.g. the Entra token ARM needs, ran
 * out of time) says nothing about the fault: it is run again, up to three times.
 */
async function runAgainst(row: Row, fault: () => UpstreamFault, deadlineMs: number) {
  for (let attempt = 1; ; attempt++) {
    const play = fault();
    const { call, upstreams, secrets, close } = await row.arm(play);
    const http = new HttpClient({
      connectTimeoutMs: deadlineMs,
      totalTimeoutMs: deadlineMs,
      maxBodyBytes: MAX_BODY_BYTES,
      ...(upstreams.tlsCa ? { ca: upstreams.tlsCa } : {}),
    });
    try {
      const error = await settledError(
        call(testContext({ upstreams, workload: recordingIssuer(), http })),
        deadlineMs * 4,
      );
      const endedAt = performance.now();
      if (play.since !== null || attempt === 3) return { error, play, secrets, stuckMs: endedAt - (play.since ?? 0) };
    } finally {
      await close();
      await http.close();
    }
  }
}

// Cases run side by side: each has its own fake and client, and mostly waits on timers.
describe.concurrent.each(rows)('$kind upstream', (row) => {
  it.for(cases)(
    'that $name: a typed error within the deadline, bounded reads, no secret',
    async ({ fault, code, deadlineMs: caseDeadlineMs }, { expect }) => {
      const deadlineMs = Math.max(caseDeadlineMs, row.minDeadlineMs ?? 0);
      const { error, play, secrets, stuckMs } = await runAgainst(row, fault, deadlineMs);
      expect(play.since, 'the broken upstream got a request').not.toBeNull();
      expect({ code: error.code, upstream: error.upstream }).toEqual({ code, upstream: row.upstream });
      expect(error.message).toContain(row.service);
      // From the moment the broken upstream got the request: set-up before it is not the fault's.
      expect(stuckMs).toBeLessThan(deadlineMs + SLACK_MS);
      if (play.mode === 'flood') expect(play.sent).toBeLessThan(FLOOD_READ_LIMIT);
      const shown = `${error.message} ${JSON.stringify(error)}`;
      for (const secret of [...secrets, ...minted]) expect(shown).not.toContain(secret);
    },
  );
});
