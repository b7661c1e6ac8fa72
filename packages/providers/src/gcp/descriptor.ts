import { GcpIdentityParams } from '@alphaswarm/contracts';
import type { Descriptor } from '../shared/descriptor';
import { gcpFacts } from './facts';

export const gcpDescriptor = {
  ...gcpFacts,
  secretSchema: null,
  inputSchema: GcpIdentityParams,
} satisfies Descriptor<'cloud_gcp'>;
