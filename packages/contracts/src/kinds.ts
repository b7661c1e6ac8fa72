import { z } from 'zod';

export const INTEGRATION_KINDS = [
  'huggingface',
  'docker_hub',
  'cloud_aws',
  'cloud_azure',
  'cloud_gcp',
  'cloud_cloudflare',
] as const;
export const IntegrationKind = z.enum(INTEGRATION_KINDS);
export type IntegrationKind = z.infer<typeof IntegrationKind>;

export const PAT_KINDS = ['huggingface', 'docker_hub'] as const satisfies readonly IntegrationKind[];
export type PatKind = (typeof PAT_KINDS)[number];

export const CLOUD_KINDS = [
  'cloud_aws',
  'cloud_azure',
  'cloud_gcp',
  'cloud_cloudflare',
] as const satisfies readonly IntegrationKind[];
export const CloudKind = z.enum(CLOUD_KINDS);
export type CloudKind = z.infer<typeof CloudKind>;

/** Kinds whose link carries an encrypted secret (the rest are federated: nothing secret stored). */
export const SECRET_BEARING_KINDS = [
  'huggingface',
  'docker_hub',
  'cloud_cloudflare',
] as const satisfies readonly IntegrationKind[];

export function isSecretBearing(kind: IntegrationKind): boolean {
  return (SECRET_BEARING_KINDS as readonly IntegrationKind[]).includes(kind);
}

export function isCloudKind(kind: IntegrationKind): kind is CloudKind {
  return (CLOUD_KINDS as readonly IntegrationKind[]).includes(kind);
}

/** Path segments accepted by the REST compatibility routes, mapped to a kind. */
export const REST_KIND_ALIASES: Record<string, IntegrationKind> = {
  huggingface: 'huggingface',
  dockerhub: 'docker_hub',
  docker_hub: 'docker_hub',
  cloud_aws: 'cloud_aws',
  cloud_azure: 'cloud_azure',
  cloud_gcp: 'cloud_gcp',
  cloud_cloudflare: 'cloud_cloudflare',
};
