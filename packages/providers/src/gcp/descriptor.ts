import { kinds } from '@alphaswarm/contracts/kinds';
import type { CloudDescriptor } from '../shared/descriptor';
import { GcpIdentityParams, GcpIssued } from './schemas';

export const gcpDescriptor = {
  ...kinds.cloud_gcp,
  inputSchema: GcpIdentityParams,
  secretSchema: null,
  issuedSchema: GcpIssued,
} satisfies CloudDescriptor;
