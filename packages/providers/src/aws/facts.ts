import { cloudFacts } from '../shared/descriptor';

export const awsFacts = cloudFacts({
  kind: 'cloud_aws',
  label: 'AWS',
  secretBearing: false,
  secretParams: [],
  revocationGuidance:
    'In the AWS account, delete the IAM role created for this link (and the IAM OIDC provider for our issuer if nothing else uses it), e.g. delete the CloudFormation stack.',
  expiryField: null,
});
