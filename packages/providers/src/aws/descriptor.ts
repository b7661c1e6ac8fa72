import { AwsIdentityParams } from '@alphaswarm/contracts';
import type { Descriptor } from '../shared/descriptor';
import { awsFacts } from './facts';

export const awsDescriptor = {
  ...awsFacts,
  secretSchema: null,
  inputSchema: AwsIdentityParams,
} satisfies Descriptor<'cloud_aws'>;
