import { boundedText } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import { z } from 'zod';

export const GCP_UPSTREAM = kinds.cloud_gcp.label;

/** What the operator hands back in step 2: the pool provider, the service account and the project. */
export const GcpIdentityParams = z.object({
  workload_identity_provider: boundedText(512).regex(
    /^projects\/[^/]+\/locations\/global\/workloadIdentityPools\/[^/]+\/providers\/[^/]+$/,
    'workload_identity_provider must be the full resource name projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>',
  ),
  service_account_email: z.email().max(320),
  project_id: boundedText(64, 1),
});
export type GcpIdentityParams = z.infer<typeof GcpIdentityParams>;

/** A short-lived access token credentials.issue mints for a GCP link. */
export const GcpIssued = z.object({
  kind: z.literal('cloud_gcp'),
  access_token: z.string(),
  expires_at: z.string(),
  service_account_email: z.string(),
  project_id: z.string(),
});

/** Only needs to see the project it is linked to. */
export const GCP_REQUIRED_PERMISSIONS = ['resourcemanager.projects.get'] as const;
/**
 * Read-only extras: list buckets (agents pick data sources) and Artifact Registry repositories
 * (sandboxes run the customer's images). Missing ones leave the link degraded, not broken.
 */
export const GCP_OPTIONAL_PERMISSIONS = ['storage.buckets.list', 'artifactregistry.repositories.list'] as const;
export const GCP_PERMISSIONS = [...GCP_REQUIRED_PERMISSIONS, ...GCP_OPTIONAL_PERMISSIONS] as const;

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** projects:search paging: 50 a page, at most 10 pages or 200 projects. */
export const PROJECT_PAGE_SIZE = 50;
export const PROJECT_PAGE_CAP = 10;
export const PROJECT_CAP = 200;

/** Lifetimes asked of generateAccessToken: short for probes, one hour for credentials we hand out. */
export const PROBE_TOKEN_SECONDS = 600;
export const ISSUED_TOKEN_SECONDS = 3600;

/** The JWT audience Google STS expects: the provider's full resource name behind `//iam.googleapis.com/`. */
export function gcpAudience(workloadIdentityProvider: string): string {
  return `//iam.googleapis.com/${workloadIdentityProvider}`;
}

export const GcpLinkMetadata = z.object({
  workload_identity_provider: GcpIdentityParams.shape.workload_identity_provider,
  audience: z.string().max(600),
  service_account_email: GcpIdentityParams.shape.service_account_email,
  project_id: GcpIdentityParams.shape.project_id,
  projects: z.number().int().nonnegative().optional(),
  permissions: z.object({ missing_optional: z.array(z.string().max(128)).max(32) }).optional(),
});
export type GcpLinkMetadata = z.infer<typeof GcpLinkMetadata>;
