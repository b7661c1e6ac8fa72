import { hcl, shellQuote } from '../shared/text';
import type { UpstreamConfig } from '../types';
import {
  CLOUD_PLATFORM_SCOPE,
  GCP_PERMISSIONS,
  type GcpIdentityParams,
  gcpAudience,
  ISSUED_TOKEN_SECONDS,
  JWT_TOKEN_TYPE,
} from './schemas';

type GcpParams = GcpIdentityParams;

export const DEFAULT_POOL_ID = 'alphaswarm';
export const DEFAULT_PROVIDER_ID = 'alphaswarm-oidc';
export const DEFAULT_SA_ID = 'alphaswarm-reader';
export const CUSTOM_ROLE_ID = 'alphaswarmReader';
export const PROJECT_ID_PLACEHOLDER = 'YOUR_PROJECT_ID';
export const PROJECT_NUMBER_PLACEHOLDER = 'PROJECT_NUMBER';

export interface GcpProviderName {
  projectNumber: string;
  poolId: string;
  providerId: string;
}

export function parseProviderName(name: string): GcpProviderName | null {
  const m = /^projects\/([^/]+)\/locations\/global\/workloadIdentityPools\/([^/]+)\/providers\/([^/]+)$/.exec(name);
  return m ? { projectNumber: m[1]!, poolId: m[2]!, providerId: m[3]! } : null;
}

/** `projects/N/locations/global/workloadIdentityPools/P` — the pool that owns a provider. */
export function poolName(provider: string): string {
  return provider.replace(/\/providers\/[^/]+$/, '');
}

/** The federated principal Google sees for our token: what roles/iam.workloadIdentityUser is granted to. */
export function federatedPrincipal(provider: string, subject: string): string {
  return `principal://iam.googleapis.com/${poolName(provider)}/subject/${subject}`;
}

export interface GcpTrustFacts {
  issuer: string;
  subject: string;
  /** Known once the customer has created the provider; placeholders until then. */
  params?: Partial<GcpParams> | null;
  /** The project id asked for before the artifacts are generated. */
  projectId?: string | null;
}

/** The APIs workload identity federation and our checks call; a fresh project has them off. */
export const GCP_REQUIRED_APIS = [
  'iam.googleapis.com',
  'iamcredentials.googleapis.com',
  'sts.googleapis.com',
  'cloudresourcemanager.googleapis.com',
] as const;

export const GCP_JWKS_FILE = 'alphaswarm-gcp-jwks.json';

interface Resolved {
  projectId: string;
  projectNumber: string;
  poolId: string;
  providerId: string;
  provider: string;
  serviceAccountEmail: string;
}

function resolve(facts: GcpTrustFacts): Resolved {
  const parsed = facts.params?.workload_identity_provider
    ? parseProviderName(facts.params.workload_identity_provider)
    : null;
  const projectId = facts.params?.project_id ?? facts.projectId ?? PROJECT_ID_PLACEHOLDER;
  const projectNumber = parsed?.projectNumber ?? PROJECT_NUMBER_PLACEHOLDER;
  const poolId = parsed?.poolId ?? DEFAULT_POOL_ID;
  const providerId = parsed?.providerId ?? DEFAULT_PROVIDER_ID;
  return {
    projectId,
    projectNumber,
    poolId,
    providerId,
    provider: `projects/${projectNumber}/locations/global/workloadIdentityPools/${poolId}/providers/${providerId}`,
    serviceAccountEmail: facts.params?.service_account_email ?? `${DEFAULT_SA_ID}@${projectId}.iam.gserviceaccount.com`,
  };
}

/**
 * The external_account credential configuration (upstreams.md §5c) we build our client from.
 * There is no credential_source: our subject token comes from a programmatic supplier.
 */
export function gcpExternalAccount(
  endpoints: UpstreamConfig['gcp'],
  facts: GcpTrustFacts,
  lifetimeSeconds = ISSUED_TOKEN_SECONDS,
): {
  type: 'external_account';
  audience: string;
  subject_token_type: string;
  token_url: string;
  service_account_impersonation_url: string;
  service_account_impersonation: { token_lifetime_seconds: number };
  scopes: string[];
} {
  const r = resolve(facts);
  return {
    type: 'external_account',
    audience: gcpAudience(r.provider),
    subject_token_type: JWT_TOKEN_TYPE,
    token_url: `${endpoints.stsEndpoint.replace(/\/+$/, '')}/v1/token`,
    service_account_impersonation_url: `${endpoints.iamCredentialsEndpoint.replace(/\/+$/, '')}/v1/projects/-/serviceAccounts/${r.serviceAccountEmail}:generateAccessToken`,
    service_account_impersonation: { token_lifetime_seconds: lifetimeSeconds },
    scopes: [CLOUD_PLATFORM_SCOPE],
  };
}

/** CEL for the provider's attribute condition: only our org's subject gets through. */
export function attributeCondition(subject: string): string {
  return `assertion.sub == ${JSON.stringify(subject)}`;
}

export function gcpTerraform(facts: GcpTrustFacts): string {
  const r = resolve(facts);
  const permissions = GCP_PERMISSIONS.map((p) => `    ${hcl(p)},`).join('\n');
  return `# AlphaSwarm read-only access to one Google Cloud project through Workload Identity Federation.
# Apply with: terraform init && terraform apply -var project_id=<your project>, then paste the
# workload_identity_provider and service_account_email outputs into the wizard.

terraform {
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

variable "project_id" {
  type    = string
  default = ${hcl(r.projectId)}
}

variable "upload_jwks" {
  description = "Trust the keys in ${GCP_JWKS_FILE} (uploaded with the provider) instead of fetching them from the issuer URL: no public issuer needed. Re-apply after each key rotation."
  type        = bool
  default     = false
}

resource "google_project_service" "alphaswarm" {
  for_each           = toset([${GCP_REQUIRED_APIS.map(hcl).join(', ')}])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

locals {
  issuer  = ${hcl(facts.issuer)}
  subject = ${hcl(facts.subject)}
}

resource "google_iam_workload_identity_pool" "alphaswarm" {
  depends_on                = [google_project_service.alphaswarm]
  project                   = var.project_id
  workload_identity_pool_id = ${hcl(r.poolId)}
  display_name              = "AlphaSwarm"
}

resource "google_iam_workload_identity_pool_provider" "alphaswarm" {
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.alphaswarm.workload_identity_pool_id
  workload_identity_pool_provider_id = ${hcl(r.providerId)}
  display_name                       = "AlphaSwarm OIDC"
  attribute_mapping = {
    "google.subject" = "assertion.sub"
  }
  attribute_condition = ${hcl(attributeCondition(facts.subject))}
  oidc {
    issuer_uri = local.issuer
    jwks_json  = var.upload_jwks ? file("\${path.module}/${GCP_JWKS_FILE}") : null
    # No allowed_audiences: Google then accepts the provider's own resource name, which is the audience we send.
  }
}

resource "google_service_account" "alphaswarm" {
  project      = var.project_id
  account_id   = ${hcl(DEFAULT_SA_ID)}
  display_name = "AlphaSwarm (read-only)"
}

resource "google_project_iam_custom_role" "alphaswarm" {
  project     = var.project_id
  role_id     = ${hcl(CUSTOM_ROLE_ID)}
  title       = "AlphaSwarm reader"
  permissions = [
${permissions}
  ]
}

resource "google_project_iam_member" "alphaswarm" {
  project = var.project_id
  role    = google_project_iam_custom_role.alphaswarm.name
  member  = "serviceAccount:\${google_service_account.alphaswarm.email}"
}

resource "google_service_account_iam_member" "alphaswarm_workload_identity_user" {
  service_account_id = google_service_account.alphaswarm.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principal://iam.googleapis.com/\${google_iam_workload_identity_pool.alphaswarm.name}/subject/\${local.subject}"
}

output "workload_identity_provider" {
  value = google_iam_workload_identity_pool_provider.alphaswarm.name
}

output "service_account_email" {
  value = google_service_account.alphaswarm.email
}

output "project_id" {
  value = var.project_id
}
`;
}

/**
 * The same setup as gcloud commands, for customers without Terraform. `jwks` mode uploads our keys
 * with the provider, so Google never fetches the issuer (an internal-only deployment).
 */
export function gcpGcloudScript(facts: GcpTrustFacts): string {
  const r = resolve(facts);
  const sa = `${DEFAULT_SA_ID}@\${PROJECT_ID}.iam.gserviceaccount.com`;
  return `#!/usr/bin/env bash
# AlphaSwarm read-only access to one Google Cloud project through Workload Identity Federation.
# Usage: bash alphaswarm-gcp.sh [public|jwks]
#   public (default): Google fetches AlphaSwarm's published issuer (discovery + JWKS) itself.
#   jwks: upload ${GCP_JWKS_FILE} (next to this script) with the provider; nothing public needed,
#         but run "gcloud iam workload-identity-pools providers update-oidc ... --jwk-json-path" after each key rotation.
# Run as someone who may enable APIs, create service accounts and set IAM policy on the project.
set -euo pipefail
PROJECT_ID=${shellQuote(r.projectId)}
MODE="\${1:-public}"
if [ "$PROJECT_ID" = ${shellQuote(PROJECT_ID_PLACEHOLDER)} ]; then
  echo "Set PROJECT_ID at the top of this script (or enter it in AlphaSwarm and download the script again)." >&2
  exit 2
fi
case "$MODE" in
  public) JWKS_FLAG=() ;;
  jwks) JWKS_FLAG=(--jwk-json-path=${shellQuote(GCP_JWKS_FILE)}) ;;
  *) echo "usage: $0 [public|jwks]" >&2; exit 2 ;;
esac

gcloud services enable ${GCP_REQUIRED_APIS.join(' ')} --project="$PROJECT_ID"

PROJECT_NUMBER=$(gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)')

gcloud iam workload-identity-pools create ${r.poolId} \\
  --project="$PROJECT_ID" --location=global --display-name=AlphaSwarm

gcloud iam workload-identity-pools providers create-oidc ${r.providerId} \\
  --project="$PROJECT_ID" --location=global --workload-identity-pool=${r.poolId} \\
  --display-name="AlphaSwarm OIDC" \\
  --issuer-uri=${shellQuote(facts.issuer)} \\
  --attribute-mapping=google.subject=assertion.sub \\
  --attribute-condition=${shellQuote(attributeCondition(facts.subject))} \\
  \${JWKS_FLAG[@]+"\${JWKS_FLAG[@]}"}

gcloud iam service-accounts create ${DEFAULT_SA_ID} \\
  --project="$PROJECT_ID" --display-name="AlphaSwarm (read-only)"

gcloud iam roles create ${CUSTOM_ROLE_ID} --project="$PROJECT_ID" \\
  --title="AlphaSwarm reader" --permissions=${GCP_PERMISSIONS.join(',')}

gcloud projects add-iam-policy-binding "$PROJECT_ID" \\
  --member="serviceAccount:${sa}" --role="projects/\${PROJECT_ID}/roles/${CUSTOM_ROLE_ID}"

gcloud iam service-accounts add-iam-policy-binding "${sa}" \\
  --project="$PROJECT_ID" --role=roles/iam.workloadIdentityUser \\
  --member="principal://iam.googleapis.com/projects/\${PROJECT_NUMBER}/locations/global/workloadIdentityPools/${r.poolId}/subject/${facts.subject}"

echo "Paste these values into AlphaSwarm:"
echo "  workload_identity_provider: projects/\${PROJECT_NUMBER}/locations/global/workloadIdentityPools/${r.poolId}/providers/${r.providerId}"
echo "  service_account_email: ${sa}"
echo "  project_id: $PROJECT_ID"
`;
}
