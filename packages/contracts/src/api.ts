import { z } from 'zod';
import { OrgId } from './credential-key';
import { PublicIntegration } from './integration';
import { IntegrationKind } from './kinds';

export { TRPC_MAX_BATCH_SIZE } from './limits';

export const OrgInput = z.object({ org_id: OrgId });
export const LinkInput = z.object({ org_id: OrgId, kind: IntegrationKind });

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
