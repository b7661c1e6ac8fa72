import { z } from 'zod';
import { OrgId } from './credential-key';
import { IntegrationError, IntegrationStatus, Metadata, Timestamp } from './integration';
import { IntegrationKind } from './kinds';
import { boundedText, secretText } from './text';

export const STORE_FILE_FORMAT = 'alphaswarm.integrations';
export const STORE_FILE_VERSION = 1;

export const StoreFileRecord = z.object({
  credential_key: boundedText(128),
  org_id: OrgId,
  kind: IntegrationKind,
  namespace: boundedText(256),
  status: IntegrationStatus,
  connected_at: Timestamp,
  last_health_at: Timestamp.nullable(),
  last_health_status: IntegrationStatus.nullable().optional().default(null),
  error: IntegrationError.nullable(),
  metadata: Metadata,
  secret: secretText(65536).nullable(),
});
export type StoreFileRecord = z.infer<typeof StoreFileRecord>;

export const StoreFile = z.object({
  format: z.literal(STORE_FILE_FORMAT),
  version: z.literal(STORE_FILE_VERSION),
  exported_at: Timestamp,
  integrations: z.array(z.unknown()),
});
export type StoreFile = z.infer<typeof StoreFile>;

export const OnConflict = z.enum(['fail', 'skip', 'replace']);
export type OnConflict = z.infer<typeof OnConflict>;
