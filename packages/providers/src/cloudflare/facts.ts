import { cloudFacts } from '../shared/descriptor';

/** Cloudflare has no workload-identity federation: the link stores a scoped, expiring API token. */
export const cloudflareFacts = cloudFacts({
  kind: 'cloud_cloudflare',
  label: 'Cloudflare',
  secretBearing: true,
  secretParams: ['api_token'],
  revocationGuidance:
    'Delete the API token in the Cloudflare dashboard: Manage Account → Account API Tokens (or My Profile → API Tokens) → Delete.',
  expiryField: 'expires_on',
});
