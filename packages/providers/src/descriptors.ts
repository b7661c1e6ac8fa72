// The SDK-free entry (`@alphaswarm/providers/descriptors`): each kind's facts and schemas, for
// packages/db and generic server code that must not load the upstream SDKs.
import type { IntegrationKind } from '@alphaswarm/contracts';
import { awsDescriptor } from './aws/descriptor';
import { azureDescriptor } from './azure/descriptor';
import { cloudflareDescriptor } from './cloudflare/descriptor';
import { dockerHubDescriptor } from './docker-hub/descriptor';
import { gcpDescriptor } from './gcp/descriptor';
import { huggingfaceDescriptor } from './huggingface/descriptor';
import type { Descriptor } from './shared/descriptor';

export const descriptors = {
  huggingface: huggingfaceDescriptor,
  docker_hub: dockerHubDescriptor,
  cloud_aws: awsDescriptor,
  cloud_azure: azureDescriptor,
  cloud_gcp: gcpDescriptor,
  cloud_cloudflare: cloudflareDescriptor,
} satisfies Record<IntegrationKind, Descriptor>;

export function descriptorFor(kind: IntegrationKind): Descriptor {
  return descriptors[kind] as Descriptor;
}

export { kinds } from './kinds';
export * from './shared/descriptor';
