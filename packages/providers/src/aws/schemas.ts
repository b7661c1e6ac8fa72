import { kinds } from '@alphaswarm/contracts/kinds';
import { z } from 'zod';

export const AWS_UPSTREAM = kinds.cloud_aws.label;
/** What the operator hands back in step 2: the role we assume. */
export const AwsIdentityParams = z.object({
  role_arn: z
    .string()
    .max(2048)
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
      'role_arn must be an IAM role ARN like arn:aws:iam::123456789012:role/Name',
    ),
  region: z
    .string()
    .max(32)
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .optional(),
});
export type AwsIdentityParams = z.infer<typeof AwsIdentityParams>;

/** Short-lived credentials credentials.issue mints for an AWS link. */
export const AwsIssued = z.object({
  kind: z.literal('cloud_aws'),
  access_key_id: z.string(),
  secret_access_key: z.string(),
  session_token: z.string(),
  expires_at: z.string(),
  role_arn: z.string(),
  region: z.string(),
});

/** The client id AWS expects in an OIDC provider's audience list for AssumeRoleWithWebIdentity. */
export const AWS_AUDIENCE = 'sts.amazonaws.com';

/**
 * What the platform needs from the role. Required: who we are, which regions exist, the account's
 * name, and the ability to check the rest of this list ourselves (SimulatePrincipalPolicy on the
 * role). sts:GetCallerIdentity needs no grant in real AWS, it is listed so the policy documents it.
 */
export const AWS_REQUIRED_ACTIONS = [
  'sts:GetCallerIdentity',
  'ec2:DescribeRegions',
  'iam:ListAccountAliases',
  'iam:SimulatePrincipalPolicy',
] as const;

/**
 * Nice to have, still read-only: list buckets (agents pick data sources) and pull private images
 * from ECR (sandboxes run the customer's images). Missing ones leave the link degraded, not broken.
 */
export const AWS_OPTIONAL_ACTIONS = ['s3:ListAllMyBuckets', 'ecr:GetAuthorizationToken'] as const;

export const AWS_ACTIONS = [...AWS_REQUIRED_ACTIONS, ...AWS_OPTIONAL_ACTIONS] as const;

/** Enabled regions listed by enumerateResources (there are fewer than this today). */
export const AWS_REGION_CAP = 50;

/** Seconds a session lives: the minimum for probes, one hour for credentials we hand out. */
export const PROBE_SESSION_SECONDS = 900;
export const ISSUED_SESSION_SECONDS = 3600;

/** The metadata stored on a cloud_aws link: identifiers and configuration only. */
export const AwsLinkMetadata = z.object({
  role_arn: AwsIdentityParams.shape.role_arn,
  account_id: z.string().regex(/^\d{12}$/),
  account_alias: z.string().max(63).optional(),
  regions: z.array(z.string().max(32)).max(AWS_REGION_CAP),
  region: z.string().max(32),
  permissions: z.object({ missing_optional: z.array(z.string().max(128)).max(32) }),
});
export type AwsLinkMetadata = z.infer<typeof AwsLinkMetadata>;
