import { CloudKind, IdentityParamsInput, OrgId, SessionId } from '@alphaswarm/contracts';
import { z } from 'zod';
import { SHARE_DEFAULT_TTL_SECONDS, SHARE_MAX_TTL_SECONDS } from '../../services/shares';

/** Every step names its session; org_id/kind, when given, must match it (else NOT_FOUND). */
export const SessionStep = z.object({
  session_id: SessionId,
  org_id: OrgId.optional(),
  kind: CloudKind.optional(),
});

/** Discarding names the org and kind as well, so a stale form cannot drop another org's session. */
export const DiscardInput = z.object({ session_id: SessionId, org_id: OrgId, kind: CloudKind });

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

/** A hand-off link lives 72 h unless told otherwise, 7 days at most. */
export const ShareInput = SessionStep.extend({
  ttl_seconds: z
    .number()
    .int()
    .min(300, 'A hand-off link lives at least 5 minutes (ttl_seconds ≥ 300).')
    .max(SHARE_MAX_TTL_SECONDS, 'A hand-off link lives at most 7 days (ttl_seconds ≤ 604800).')
    .default(SHARE_DEFAULT_TTL_SECONDS),
});

export const RevokeShareInput = z.union([
  z.object({
    share_id: z.string().regex(/^shr_[0-9a-f]{24}$/, 'A share id looks like shr_ followed by 24 hex digits.'),
  }),
  SessionStep,
]);

/** The hand-off page names its share by the token in its link, and nothing else. */
export const HandoffInput = z.object({ token: z.string().max(64) });
export const HandoffSubmitInput = HandoffInput.extend({ params: IdentityParamsInput });
