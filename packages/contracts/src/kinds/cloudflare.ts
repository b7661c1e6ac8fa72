import { cloudFacts } from './facts';

/** Cloudflare has no workload-identity federation: the link stores a scoped, expiring API token. */
export const cloudflare = cloudFacts({
  kind: 'cloud_cloudflare',
  label: 'Cloudflare',
  mark: 'CF',
  summary: 'A scoped, expiring account API token, stored encrypted.',
  secretBearing: true,
  secretParams: ['api_token'],
  rotatable: true,
  revocationGuidance:
    'Delete the API token in the Cloudflare dashboard: Manage Account → Account API Tokens (or My Profile → API Tokens) → Delete.',
  expiryField: 'expires_on',
});
