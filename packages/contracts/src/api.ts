import { z } from 'zod';
import { OrgId } from './credential-key';
import { PublicIntegration } from './integration';
import { IntegrationKind } from './kinds';
import { boundedText, secretText } from './text';

/** The most calls one tRPC request may carry: the server refuses larger batches, the typed client splits them. */
export const TRPC_MAX_BATCH_SIZE = 16;

export const OrgInput = z.object({ org_id: OrgId });
export const LinkInput = z.object({ org_id: OrgId, kind: IntegrationKind });

export const HuggingFaceConnectInput = z.object({
  token: secretText(4096),
  namespace: boundedText(96, 1).optional(),
});
export type HuggingFaceConnectInput = z.infer<typeof HuggingFaceConnectInput>;

export const DockerHubConnectInput = z.object({
  username: boundedText(255, 1),
  pat: secretText(4096),
  namespace: boundedText(255, 1).optional(),
});
export type DockerHubConnectInput = z.infer<typeof DockerHubConnectInput>;

export const MutationResult = z.object({
  integration: PublicIntegration,
  audit_run_id: z.string(),
});
export type MutationResult = z.infer<typeof MutationResult>;

export const DisconnectResult = z.object({
  disconnected: z.literal(true),
  org_id: OrgId,
  kind: IntegrationKind,
  credential_key: z.string(),
  revocation_guidance: z.string(),
  audit_run_id: z.string(),
});
export type DisconnectResult = z.infer<typeof DisconnectResult>;

/** What credentials.issue hands to a service principal. */
export const IssuedCredentials = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('huggingface'), token: z.string(), namespace: z.string() }),
  z.object({ kind: z.literal('docker_hub'), username: z.string(), pat: z.string(), namespace: z.string() }),
  z.object({
    kind: z.literal('cloud_aws'),
    access_key_id: z.string(),
    secret_access_key: z.string(),
    session_token: z.string(),
    expires_at: z.string(),
    role_arn: z.string(),
    region: z.string(),
  }),
  z.object({
    kind: z.literal('cloud_gcp'),
    access_token: z.string(),
    expires_at: z.string(),
    service_account_email: z.string(),
    project_id: z.string(),
  }),
  z.object({
    kind: z.literal('cloud_azure'),
    access_token: z.string(),
    expires_at: z.string(),
    tenant_id: z.string(),
    client_id: z.string(),
  }),
  z.object({
    kind: z.literal('cloud_cloudflare'),
    api_token: z.string(),
    account_id: z.string(),
    expires_at: z.string().nullable(),
  }),
]);
export type IssuedCredentials = z.infer<typeof IssuedCredentials>;
