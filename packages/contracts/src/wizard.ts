import { z } from 'zod';
import { OrgId } from './credential-key';
import { CloudKind } from './kinds';
import { boundedText, secretText } from './text';

export const WizardStartInput = z.object({ org_id: OrgId, kind: CloudKind });
export const SessionId = boundedText(64, 1);
export const SessionInput = z.object({ session_id: SessionId });

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
export const GcpIdentityParams = z.object({
  workload_identity_provider: boundedText(512).regex(
    /^projects\/[^/]+\/locations\/global\/workloadIdentityPools\/[^/]+\/providers\/[^/]+$/,
    'workload_identity_provider must be the full resource name projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>',
  ),
  service_account_email: z.email().max(320),
  project_id: boundedText(64, 1),
});
export const AzureIdentityParams = z.object({
  tenant_id: z.uuid(),
  client_id: z.uuid(),
  subscription_ids: z.array(z.uuid()).max(100).optional(),
});
export const CloudflareIdentityParams = z.object({
  account_id: z.string().regex(/^[0-9a-f]{32}$/, 'account_id is the 32-character hex id from the dashboard URL'),
  api_token: secretText(4096),
  accept_broad_token: z.boolean().optional(),
});
export const IdentityParamsByKind = {
  cloud_aws: AwsIdentityParams,
  cloud_gcp: GcpIdentityParams,
  cloud_azure: AzureIdentityParams,
  cloud_cloudflare: CloudflareIdentityParams,
} as const satisfies Record<CloudKind, z.ZodType>;
export type IdentityParams = {
  cloud_aws: z.infer<typeof AwsIdentityParams>;
  cloud_gcp: z.infer<typeof GcpIdentityParams>;
  cloud_azure: z.infer<typeof AzureIdentityParams>;
  cloud_cloudflare: z.infer<typeof CloudflareIdentityParams>;
};

/** A kind's identity parameters, checked against that kind's schema once the session names the kind. */
export const IdentityParamsInput = z.record(boundedText(64), z.unknown());
export const ValidateIdentityInput = SessionInput.extend({ params: IdentityParamsInput });

export const Artifact = z.object({
  name: z.string(),
  media_type: z.string(),
  content: z.string(),
});
export type Artifact = z.infer<typeof Artifact>;

export const BootstrapArtifacts = z.object({
  issuer: z.string(),
  audience: z.string(),
  subject: z.string(),
  artifacts: z.array(Artifact),
  links: z.array(z.object({ label: z.string(), url: z.string() })),
});
export type BootstrapArtifacts = z.infer<typeof BootstrapArtifacts>;

export const IdentityResult = z.object({
  /** Who we became, e.g. the assumed-role ARN, the SA email, the service principal object id. */
  principal: z.string(),
  details: z.record(z.string(), z.string()),
});
export type IdentityResult = z.infer<typeof IdentityResult>;

export const PermissionCheck = z.object({
  permission: z.string(),
  required: z.boolean(),
  granted: z.boolean(),
  scope: z.string().optional(),
});
export type PermissionCheck = z.infer<typeof PermissionCheck>;

export const Resource = z.object({
  type: z.string(),
  id: z.string(),
  name: z.string(),
  details: z.record(z.string(), z.string()).optional(),
});
export type Resource = z.infer<typeof Resource>;

export const ResourcesResult = z.object({ resources: z.array(Resource), truncated: z.boolean() });
export type ResourcesResult = z.infer<typeof ResourcesResult>;

export const WizardStep = z.enum([
  'bootstrap_artifacts',
  'validate_identity',
  'validate_permissions',
  'enumerate_resources',
  'connect',
]);
export type WizardStep = z.infer<typeof WizardStep>;
