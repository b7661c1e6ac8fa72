import type { CloudKind, IntegrationKind, PatKind } from '@alphaswarm/contracts';
import { awsProvider } from './aws';
import { azureProvider } from './azure';
import { cloudflareProvider } from './cloudflare';
import { dockerHubProvider } from './docker-hub';
import { gcpProvider } from './gcp';
import { huggingfaceProvider } from './huggingface';
import type { CloudProvider, PatProvider, Provider } from './types';

/** The one place a kind's steps are wired in: adding a kind is its folder plus one line here. */
export const providers = {
  huggingface: huggingfaceProvider,
  docker_hub: dockerHubProvider,
  cloud_aws: awsProvider,
  cloud_azure: azureProvider,
  cloud_gcp: gcpProvider,
  cloud_cloudflare: cloudflareProvider,
} satisfies Record<IntegrationKind, Provider>;

export function providerFor(kind: IntegrationKind): Provider {
  return providers[kind] as Provider;
}

export function patProvider<K extends PatKind>(kind: K): PatProvider<K> {
  return providers[kind] as unknown as PatProvider<K>;
}

export function cloudProvider<K extends CloudKind>(kind: K): CloudProvider<K> {
  return providers[kind] as unknown as CloudProvider<K>;
}

/**
 * Load the cloud SDKs now rather than on their provider's first upstream call (each cloud provider
 * imports its client lazily so that a start does not pay for them): a server calls this once it
 * listens, so that a first cloud request seldom waits for them.
 */
export async function loadCloudSdks(): Promise<void> {
  await Promise.all([import('./aws/client'), import('./azure/client'), import('./gcp/client')]);
}
