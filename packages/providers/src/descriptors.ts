// The SDK-free entry (`@alphaswarm/providers/descriptors`): each kind's facts and schemas, for
// generic code (the API's services and routers, the store file) that must not load the upstream SDKs.
import type { IntegrationKind } from '@alphaswarm/contracts/kinds';
import type { z } from 'zod';
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

type Descriptors = typeof descriptors;

export function descriptorFor(kind: IntegrationKind): Descriptor {
  return descriptors[kind];
}

/** What the operator enters for a kind, as its descriptor's input schema types it. */
export type InputOf<K extends IntegrationKind> = z.infer<Descriptors[K]['inputSchema']>;
/** What credentials.issue returns for a link of kind K (any kind by default). */
export type IssuedCredentials<K extends IntegrationKind = IntegrationKind> = {
  [P in K]: z.infer<Descriptors[P]['issuedSchema']>;
}[K];
/** The decrypted secret of a link of kind K, or null for a federated kind. */
export type SecretOf<K extends IntegrationKind> = Descriptors[K]['secretSchema'] extends z.ZodType
  ? z.infer<Descriptors[K]['secretSchema']>
  : null;

export type { CloudDescriptor, Descriptor, PatDescriptor } from './shared/descriptor';
