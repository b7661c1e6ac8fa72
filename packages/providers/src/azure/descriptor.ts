import { AzureIdentityParams } from '@alphaswarm/contracts';
import type { Descriptor } from '../shared/descriptor';
import { azureFacts } from './facts';

export const azureDescriptor = {
  ...azureFacts,
  secretSchema: null,
  inputSchema: AzureIdentityParams,
} satisfies Descriptor<'cloud_azure'>;
