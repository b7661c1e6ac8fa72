import { HttpClient } from '../http';
import type { ProviderContext, UpstreamConfig, WorkloadTokenSource } from '../types';

export const DEFAULT_UPSTREAMS: UpstreamConfig = {
  huggingfaceEndpoint: 'https://huggingface.co',
  dockerHubUrl: 'https://hub.docker.com',
  aws: { region: 'us-east-1' },
  gcp: {
    stsEndpoint: 'https://sts.googleapis.com',
    iamCredentialsEndpoint: 'https://iamcredentials.googleapis.com',
    crmEndpoint: 'https://cloudresourcemanager.googleapis.com',
  },
  azure: { authorityHost: 'https://login.microsoftonline.com', armEndpoint: 'https://management.azure.com' },
  cloudflare: { apiUrl: 'https://api.cloudflare.com/client/v4', maxTtlDays: 90 },
};

const noWorkload: WorkloadTokenSource = {
  issuer: 'http://127.0.0.1:1/workload',
  mint: () => Promise.reject(new Error('no workload issuer in this test context')),
};

/** A ProviderContext for provider tests: real HTTP client, loopback upstreams, a controllable clock. */
export function testContext(
  overrides: {
    upstreams?: Partial<UpstreamConfig>;
    workload?: WorkloadTokenSource;
    now?: () => Date;
    http?: HttpClient;
  } = {},
): ProviderContext {
  const upstreams = { ...DEFAULT_UPSTREAMS, ...overrides.upstreams };
  return {
    http:
      overrides.http ?? new HttpClient({ totalTimeoutMs: 2_000, ...(upstreams.tlsCa ? { ca: upstreams.tlsCa } : {}) }),
    upstreams,
    now: overrides.now ?? (() => new Date()),
    workload: overrides.workload ?? noWorkload,
  };
}
