import { CloudflareSecret } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import type { CloudDescriptor } from '../shared/descriptor';
import { CloudflareIdentityParams, CloudflareIssued } from './schemas';

export const cloudflareDescriptor = {
  ...kinds.cloud_cloudflare,
  inputSchema: CloudflareIdentityParams,
  secretSchema: CloudflareSecret,
  issuedSchema: CloudflareIssued,
  example: { account_id: 'a'.repeat(32), api_token: 'cf_x' },
} satisfies CloudDescriptor;
