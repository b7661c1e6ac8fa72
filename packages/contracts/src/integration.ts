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

/**
 * Plaintext JSON inside each secret-bearing kind's Fernet token, the `secretSchema` of its
 * descriptor. Kept here, not in the provider folders, while packages/db's store file imports them
 * by name; once it reads descriptors they move to their folders.
 */
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
