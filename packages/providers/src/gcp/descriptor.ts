import { kinds } from '@alphaswarm/contracts/kinds';
import type { CloudDescriptor } from '../shared/descriptor';
import { GcpIdentityParams, GcpIssued } from './schemas';

export const gcpDescriptor = {
  ...kinds.cloud_gcp,
  inputSchema: GcpIdentityParams,
  secretSchema: null,
  issuedSchema: GcpIssued,
  example: {
    workload_identity_provider: 'projects/1/locations/global/workloadIdentityPools/p/providers/q',
    service_account_email: 'sa@p.iam.gserviceaccount.com',
    project_id: 'p',
  },
} satisfies CloudDescriptor;
