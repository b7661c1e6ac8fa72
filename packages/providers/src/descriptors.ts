// The SDK-free entry (`@alphaswarm/providers/descriptors`): each kind's facts and schemas, for
// generic code (the API's services and routers, the store file) that must not load the upstream
// SDKs. Read from the registry's one list; its providers are loaded only through `providerFor`.
import type { IntegrationKind } from '@alphaswarm/contracts/kinds';
import type { z } from 'zod';
import { type Registry, registry } from './registry';
import type { Descriptor } from './shared/descriptor';

type Descriptors = { [K in IntegrationKind]: Registry[K]['descriptor'] };

export const descriptors = Object.fromEntries(
  Object.entries(registry).map(([kind, entry]) => [kind, entry.descriptor]),
) as Descriptors;

/** Each kind's stored-secret schema (null: a federated kind stores none), for the store file's checks. */
export const secretSchemas = Object.fromEntries(
  Object.entries(descriptors).map(([kind, descriptor]) => [kind, descriptor.secretSchema]),
) as { [K in IntegrationKind]: z.ZodType | null };

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
