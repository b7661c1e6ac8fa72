import { cloudFacts } from './facts';

export const gcp = cloudFacts({
  kind: 'cloud_gcp',
  label: 'Google Cloud',
  mark: 'GCP',
  summary: 'Workload identity federation and service-account impersonation. Nothing secret is stored.',
  secretBearing: false,
  secretParams: [],
  revocationGuidance:
    'In the GCP project, delete the workload identity pool provider (or the pool) and remove the roles/iam.workloadIdentityUser binding on the service account.',
  expiryField: null,
});
