// Store files for the store-file tests: one link of every kind, and the file around records.
import { CloudflareSecret, DockerHubSecret, HuggingFaceSecret, type StoreFileRecord } from '@alphaswarm/contracts';
import { generateKey, Keyring } from '../src/crypto/fernet';
import { sealSecret } from '../src/secrets';
import type { ValidateOptions } from '../src/store-file/validate';

/** What the API passes from the kinds' descriptors: each kind's secret schema (null: none). */
export const CHECKS: ValidateOptions = {
  secretSchemas: {
    huggingface: HuggingFaceSecret,
    docker_hub: DockerHubSecret,
    cloud_cloudflare: CloudflareSecret,
    cloud_aws: null,
    cloud_gcp: null,
    cloud_azure: null,
  },
};

export const KEY = generateKey();
export const keyring = Keyring.fromEnv(KEY);

export const HF = { token: 'hf_SECRETSECRETSECRETSECRET' };
export const DH = { username: 'acme-bot', pat: 'dckr_pat_SECRETSECRET' };
export const CF = { api_token: 'cf-SECRETSECRETSECRET', token_id: 'tok-1' };

/** One link of every kind, with every optional field exercised somewhere. */
export function sampleRecords(ring = keyring): StoreFileRecord[] {
  const base = {
    status: 'healthy' as const,
    connected_at: '2026-05-01T10:00:00Z',
    last_health_at: null,
    last_health_status: null,
    error: null,
  };
  return [
    {
      ...base,
      credential_key: 'huggingface:org:org-acme',
      org_id: 'org-acme',
      kind: 'huggingface',
      namespace: 'acme-quant',
      last_health_at: '2026-05-02T10:00:00Z',
      last_health_status: 'healthy',
      metadata: {
        type: 'org',
        auth_email: 'ops@example.com',
        orgs: ['acme-quant'],
        expires_at: '2026-09-01T00:00:00Z',
      },
      secret: sealSecret(ring, HF),
    },
    {
      ...base,
      credential_key: 'docker_hub:org:org-acme',
      org_id: 'org-acme',
      kind: 'docker_hub',
      namespace: 'acme',
      status: 'degraded',
      last_health_at: '2026-05-02T10:00:00Z',
      last_health_status: 'degraded',
      error: { code: 'expiring_soon', message: 'The Docker Hub PAT expires in 3 days.' },
      metadata: { username: 'acme-bot', namespace_type: 'org', nested: { a: [1, 2, { b: null }] } },
      secret: sealSecret(ring, DH),
    },
    {
      ...base,
      credential_key: 'cloud_cloudflare:org:org-acme',
      org_id: 'org-acme',
      kind: 'cloud_cloudflare',
      namespace: 'acc-123',
      metadata: { account_id: 'acc-123', expires_on: '2026-08-01T00:00:00Z' },
      secret: sealSecret(ring, CF),
    },
    {
      ...base,
      credential_key: 'huggingface:org:org.beta_2',
      org_id: 'org.beta_2',
      kind: 'huggingface',
      namespace: 'beta',
      status: 'needs_reconnect',
      error: { code: 'secret_unreadable', message: 'Reconnect this integration.' },
      metadata: {},
      secret: null,
    },
    {
      ...base,
      credential_key: 'cloud_aws:org:org-acme',
      org_id: 'org-acme',
      kind: 'cloud_aws',
      namespace: '123456789012',
      metadata: { role_arn: 'arn:aws:iam::123456789012:role/alphaswarm' },
      secret: null,
    },
    {
      ...base,
      credential_key: 'cloud_azure:org:org-acme',
      org_id: 'org-acme',
      kind: 'cloud_azure',
      namespace: 'tenant-1',
      metadata: { tenant_id: 't', client_id: 'c', subscriptions: ['s1'] },
      secret: null,
    },
    {
      ...base,
      credential_key: 'cloud_gcp:org:9lives',
      org_id: '9lives',
      kind: 'cloud_gcp',
      namespace: 'proj-1',
      metadata: { projects: ['proj-1'] },
      secret: null,
    },
  ];
}

export function fileText(records: unknown[], header: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      format: 'alphaswarm.integrations',
      version: 1,
      exported_at: '2026-05-27T20:00:00Z',
      integrations: records,
      ...header,
    },
    null,
    2,
  );
}
