import { cloudFacts } from './facts';

export const aws = cloudFacts({
  kind: 'cloud_aws',
  label: 'AWS',
  mark: 'AWS',
  summary: 'Assume an IAM role that trusts our OIDC issuer. Nothing secret is stored.',
  secretBearing: false,
  secretParams: [],
  revocationGuidance:
    'In the AWS account, delete the IAM role created for this link (and the IAM OIDC provider for our issuer if nothing else uses it), e.g. delete the CloudFormation stack.',
  expiryField: null,
});
