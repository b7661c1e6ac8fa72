import { kinds } from '@alphaswarm/contracts/kinds';
import type { CloudDescriptor } from '../shared/descriptor';
import { AwsIdentityParams, AwsIssued } from './schemas';

export const awsDescriptor = {
  ...kinds.cloud_aws,
  inputSchema: AwsIdentityParams,
  secretSchema: null,
  issuedSchema: AwsIssued,
  example: { role_arn: 'arn:aws:iam::123456789012:role/alphaswarm', region: 'eu-west-1' },
} satisfies CloudDescriptor;
