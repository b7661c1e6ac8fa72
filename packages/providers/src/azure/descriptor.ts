import { kinds } from '@alphaswarm/contracts/kinds';
import type { CloudDescriptor } from '../shared/descriptor';
import { AzureIdentityParams, AzureIssued } from './schemas';

export const azureDescriptor = {
  ...kinds.cloud_azure,
  inputSchema: AzureIdentityParams,
  secretSchema: null,
  issuedSchema: AzureIssued,
  example: {
    tenant_id: '11111111-2222-4333-8444-555555555555',
    client_id: '66666666-7777-4888-9999-000000000000',
  },
} satisfies CloudDescriptor;
