import { CloudKind, IdentityParamsInput, OrgId, SessionId } from '@alphaswarm/contracts';
import { z } from 'zod';

/** Every step names its session; org_id/kind, when given, must match it (else NOT_FOUND). */
export const SessionStep = z.object({
  session_id: SessionId,
  org_id: OrgId.optional(),
  kind: CloudKind.optional(),
});

/** Step 2: the params are checked against the session kind's schema once the session names the kind. */
export const ValidateIdentityInput = SessionStep.extend({ params: IdentityParamsInput });
export type ValidateIdentityInput = z.infer<typeof ValidateIdentityInput>;
