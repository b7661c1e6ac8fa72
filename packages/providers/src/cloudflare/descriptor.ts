import { CloudflareIdentityParams, CloudflareSecret } from '@alphaswarm/contracts';
import type { Descriptor } from '../shared/descriptor';
import { cloudflareFacts } from './facts';

export const cloudflareDescriptor = {
  ...cloudflareFacts,
  secretSchema: CloudflareSecret,
  inputSchema: CloudflareIdentityParams,
} satisfies Descriptor<'cloud_cloudflare'>;
