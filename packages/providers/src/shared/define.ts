import type { CloudKind, PatKind } from '@alphaswarm/contracts/kinds';
import type { descriptors } from '../descriptors';
import type { CloudProvider, PatProvider } from '../types';

type Steps<P> = Omit<P, 'kind' | 'family' | 'descriptor'>;

/** A PAT kind's provider: its kind and family are its descriptor's. */
export function definePatProvider<K extends PatKind, S>(
  descriptor: (typeof descriptors)[K],
  steps: Steps<PatProvider<K, S>>,
): PatProvider<K, S> {
  return { kind: descriptor.kind as K, family: descriptor.family, descriptor, ...steps };
}

/** A cloud kind's provider: its kind and family are its descriptor's. */
export function defineCloudProvider<K extends CloudKind, S>(
  descriptor: (typeof descriptors)[K],
  steps: Steps<CloudProvider<K, S>>,
): CloudProvider<K, S> {
  return { kind: descriptor.kind as K, family: descriptor.family, descriptor, ...steps };
}
