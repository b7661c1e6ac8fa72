// Client-safe constants: types only from contracts, so no schema code reaches the browser.
import type { CloudKind, IntegrationKind, IntegrationStatus } from '@alphaswarm/contracts';

export const KINDS = [
  'huggingface',
  'docker_hub',
  'cloud_aws',
  'cloud_azure',
  'cloud_gcp',
  'cloud_cloudflare',
] as const satisfies readonly IntegrationKind[];

export const KIND_LABELS: Record<IntegrationKind, string> = {
  huggingface: 'Hugging Face',
  docker_hub: 'Docker Hub',
  cloud_aws: 'AWS',
  cloud_azure: 'Azure',
  cloud_gcp: 'Google Cloud',
  cloud_cloudflare: 'Cloudflare',
};

export const KIND_BLURBS: Record<IntegrationKind, string> = {
  huggingface: 'Pull models and datasets with a fine-grained access token.',
  docker_hub: 'Push and pull images with a personal access token.',
  cloud_aws: 'Assume an IAM role that trusts our OIDC issuer. Nothing secret is stored.',
  cloud_azure: 'An app registration with a federated credential trusting our issuer. Nothing secret is stored.',
  cloud_gcp: 'Workload identity federation and service-account impersonation. Nothing secret is stored.',
  cloud_cloudflare: 'A scoped, expiring account API token, stored encrypted.',
};

export const CLOUD_KINDS = [
  'cloud_aws',
  'cloud_azure',
  'cloud_gcp',
  'cloud_cloudflare',
] as const satisfies readonly CloudKind[];

export function isCloud(kind: IntegrationKind): kind is CloudKind {
  return (CLOUD_KINDS as readonly string[]).includes(kind);
}

/** The wizard path segment of each PAT kind. */
export const PAT_WIZARDS: Partial<Record<IntegrationKind, string>> = {
  huggingface: 'huggingface',
  docker_hub: 'docker-hub',
};

export type BadgeStatus = IntegrationStatus | 'not_connected';

export const STATUS_LABELS: Record<BadgeStatus, string> = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  unhealthy: 'Unhealthy',
  needs_reconnect: 'Needs reconnect',
  not_connected: 'Not connected',
};

export const STEPS = [
  'bootstrap_artifacts',
  'validate_identity',
  'validate_permissions',
  'enumerate_resources',
  'connect',
] as const;
export type Step = (typeof STEPS)[number];

export const STEP_TITLES: Record<Step, string> = {
  bootstrap_artifacts: 'Set-up artifacts',
  validate_identity: 'Validate identity',
  validate_permissions: 'Check permissions',
  enumerate_resources: 'Resources',
  connect: 'Connect',
};
