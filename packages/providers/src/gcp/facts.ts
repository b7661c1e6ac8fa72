import { cloudFacts } from '../shared/descriptor';

export const gcpFacts = cloudFacts({
  kind: 'cloud_gcp',
  label: 'Google Cloud',
  secretBearing: false,
  secretParams: [],
  revocationGuidance:
    'In the GCP project, delete the workload identity pool provider (or the pool) and remove the roles/iam.workloadIdentityUser binding on the service account.',
  expiryField: null,
});
