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

/** How bad a probe result is, for a day's worst: needs_reconnect waits on a person, so it ranks last. */
export const STATUS_SEVERITY: Record<IntegrationStatus, number> = {
  healthy: 0,
  degraded: 1,
  unhealthy: 2,
  needs_reconnect: 3,
};

/** A YYYY-MM-DD day in UTC. */
export const UtcDay = z.iso.date();

/** One UTC day of one link's probes: how many found each result, and the worst of them. */
export const HealthDay = z.object({
  date: UtcDay,
  worst: IntegrationStatus,
  counts: z.record(IntegrationStatus, z.number().int().nonnegative()),
});
export type HealthDay = z.infer<typeof HealthDay>;

/**
 * `integrations.timeline`: an org's links' probes per UTC day, `from` to `to` inclusive (today).
 * Only days with probes are listed; a day left out had none (the sweep did not run, or the link
 * did not exist yet).
 */
export const HealthTimeline = z.object({
  org_id: OrgId,
  days: z.number().int().positive(),
  from: UtcDay,
  to: UtcDay,
  links: z.array(z.object({ kind: IntegrationKind, days: z.array(HealthDay) })),
});
export type HealthTimeline = z.infer<typeof HealthTimeline>;
