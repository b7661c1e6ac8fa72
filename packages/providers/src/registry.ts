// The one list of kinds on the provider side. Each entry is the kind's descriptor (facts and
// schemas: zod, no SDK, loaded with this module) and how to load its provider (its steps and
// upstream client, loaded on first use). This module is also the `./descriptors` entry's source,
// so generic code that needs a kind's schemas never loads a provider or an SDK.
import type { CloudKind, IntegrationKind, PatKind } from '@alphaswarm/contracts/kinds';
import { awsDescriptor } from './aws/descriptor';
import { azureDescriptor } from './azure/descriptor';
import { cloudflareDescriptor } from './cloudflare/descriptor';
import { dockerHubDescriptor } from './docker-hub/descriptor';
import { gcpDescriptor } from './gcp/descriptor';
import { huggingfaceDescriptor } from './huggingface/descriptor';
import type { Descriptor } from './shared/descriptor';
import type { CloudProvider, PatProvider, Provider } from './types';

/** Adding a kind is its folder plus one line here (and its facts in `@alphaswarm/contracts/kinds`). */
export const registry = {
  huggingface: { descriptor: huggingfaceDescriptor, load: () => import('./huggingface/provider') },
  docker_hub: { descriptor: dockerHubDescriptor, load: () => import('./docker-hub/provider') },
  cloud_aws: { descriptor: awsDescriptor, load: () => import('./aws/provider') },
  cloud_azure: { descriptor: azureDescriptor, load: () => import('./azure/provider') },
  cloud_gcp: { descriptor: gcpDescriptor, load: () => import('./gcp/provider') },
  cloud_cloudflare: { descriptor: cloudflareDescriptor, load: () => import('./cloudflare/provider') },
};

/** A kind's descriptor, and its provider module (exporting `provider`) to load on first use. */
interface Entry<K extends IntegrationKind> {
  descriptor: Descriptor & { kind: K };
  load: () => Promise<{ provider: Provider & { kind: K } }>;
}

export type Registry = typeof registry;

// Every kind of the contracts list has its entry, whose descriptor and provider are of that kind.
registry satisfies { [K in IntegrationKind]: Entry<K> };

const loaded = new Map<IntegrationKind, Promise<Provider>>();

/**
 * A kind's provider, loaded on first use and kept: a dynamic import() is resolved again on every
 * call (through any loader hooks), which cost the health sweep a third of its speed.
 */
export function providerFor(kind: IntegrationKind): Promise<Provider> {
  let provider = loaded.get(kind);
  if (!provider) {
    provider = registry[kind].load().then(
      (module) => module.provider as Provider,
      (error: unknown) => {
        // A failed load (a missing chunk, an SDK that threw) is tried again next time.
        loaded.delete(kind);
        throw error;
      },
    );
    loaded.set(kind, provider);
  }
  return provider;
}

export async function patProvider<K extends PatKind>(kind: K): Promise<PatProvider<K>> {
  return (await providerFor(kind)) as unknown as PatProvider<K>;
}

export async function cloudProvider<K extends CloudKind>(kind: K): Promise<CloudProvider<K>> {
  return (await providerFor(kind)) as unknown as CloudProvider<K>;
}

/**
 * Load every provider and the cloud SDKs now rather than on first use (each cloud provider imports
 * its client lazily so that a start does not pay for them): a server calls this once it listens,
 * so that a first request seldom waits for them.
 */
export async function loadCloudSdks(): Promise<void> {
  await Promise.all([
    ...Object.values(registry).map((entry) => entry.load()),
    import('./aws/client'),
    import('./azure/client'),
    import('./gcp/client'),
  ]);
}
