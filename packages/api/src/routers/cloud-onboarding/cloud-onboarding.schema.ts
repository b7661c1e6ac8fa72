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

/** Step 1. GCP asks for the project id first so the script and Terraform carry it. */
export const BootstrapArtifactsInput = SessionStep.extend({
  project_id: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
      'The project id is 6 to 30 lowercase letters, digits or hyphens, starting with a letter, e.g. my-project-123 (shown on the Google Cloud console dashboard).',
    )
    .optional(),
});
