import { kinds } from '@alphaswarm/contracts/kinds';
import type { CloudDescriptor } from '../shared/descriptor';
import { AzureIdentityParams, AzureIssued } from './schemas';

export const azureDescriptor = {
  ...kinds.cloud_azure,
  inputSchema: AzureIdentityParams,
  secretSchema: null,
  issuedSchema: AzureIssued,
} satisfies CloudDescriptor;
