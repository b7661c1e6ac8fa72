import { z } from 'zod';
import { OrgId } from './credential-key';
import { IntegrationKind } from './kinds';

export const IntegrationStatus = z.enum(['healthy', 'degraded', 'unhealthy', 'needs_reconnect']);
export type IntegrationStatus = z.infer<typeof IntegrationStatus>;

/** RFC 3339 UTC with a trailing Z. */
export const Timestamp = z.iso.datetime({ offset: false });

export const IntegrationError = z.object({
  code: z.string().max(64),
  message: z.string().max(2000),
});
export type IntegrationError = z.infer<typeof IntegrationError>;

export const Metadata = z.record(z.string(), z.unknown());

/** The public record: what every read returns. Never a secret. */
export const PublicIntegration = z.object({
  org_id: OrgId,
  kind: IntegrationKind,
  namespace: z.string(),
  credential_key: z.string(),
  status: IntegrationStatus,
  connected_at: Timestamp,
  last_health_at: Timestamp.nullable(),
  last_health_status: IntegrationStatus.nullable(),
  error: IntegrationError.nullable(),
  metadata: Metadata,
});
export type PublicIntegration = z.infer<typeof PublicIntegration>;

/** Plaintext JSON inside each kind's Fernet token. */
export const HuggingFaceSecret = z.object({ token: z.string().min(1).max(4096) });
export const DockerHubSecret = z.object({
  username: z.string().min(1).max(255),
  pat: z.string().min(1).max(4096),
});
export const CloudflareSecret = z.object({
  api_token: z.string().min(1).max(4096),
  token_id: z.string().min(1).max(255),
});
export type HuggingFaceSecret = z.infer<typeof HuggingFaceSecret>;
export type DockerHubSecret = z.infer<typeof DockerHubSecret>;
export type CloudflareSecret = z.infer<typeof CloudflareSecret>;

/** Shown on every disconnect: the local record is gone, the upstream credential is not. */
export const REVOCATION_GUIDANCE: Record<IntegrationKind, string> = {
  huggingface:
    'Revoke the token on Hugging Face: Settings → Access Tokens → find the token → Revoke (or Invalidate and refresh).',
  docker_hub:
    'Delete the personal access token on Docker Hub: Account settings → Personal access tokens → select it → Delete.',
  cloud_aws:
    'In the AWS account, delete the IAM role created for this link (and the IAM OIDC provider for our issuer if nothing else uses it), e.g. delete the CloudFormation stack.',
  cloud_azure:
    'In Microsoft Entra ID, delete the federated identity credential on the app registration (or the whole app registration) and remove its role assignments.',
  cloud_gcp:
    'In the GCP project, delete the workload identity pool provider (or the pool) and remove the roles/iam.workloadIdentityUser binding on the service account.',
  cloud_cloudflare:
    'Delete the API token in the Cloudflare dashboard: Manage Account → Account API Tokens (or My Profile → API Tokens) → Delete.',
};
