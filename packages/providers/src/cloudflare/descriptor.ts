import { CloudflareSecret } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import type { CloudDescriptor } from '../shared/descriptor';
import { CloudflareIdentityParams, CloudflareIssued } from './schemas';

export const cloudflareDescriptor = {
  ...kinds.cloud_cloudflare,
  inputSchema: CloudflareIdentityParams,
  secretSchema: CloudflareSecret,
  issuedSchema: CloudflareIssued,
} satisfies CloudDescriptor;
