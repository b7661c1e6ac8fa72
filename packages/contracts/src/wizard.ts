import { z } from 'zod';
import { OrgId } from './credential-key';
import { CloudKind } from './kinds';
import { WIZARD_STEPS } from './kinds/index';
import { boundedText } from './text';

export const WizardStartInput = z.object({ org_id: OrgId, kind: CloudKind });
export const SessionId = boundedText(64, 1);
export const SessionInput = z.object({ session_id: SessionId });

/** A kind's identity parameters, checked against that kind's schema once the session names the kind. */
export const IdentityParamsInput = z.record(boundedText(64), z.unknown());

export const Artifact = z.object({
  name: z.string(),
  media_type: z.string(),
  content: z.string(),
});
export type Artifact = z.infer<typeof Artifact>;

export const BootstrapArtifacts = z.object({
  issuer: z.string(),
  audience: z.string(),
  subject: z.string(),
  artifacts: z.array(Artifact),
  links: z.array(z.object({ label: z.string(), url: z.string() })),
});
export type BootstrapArtifacts = z.infer<typeof BootstrapArtifacts>;

export const IdentityResult = z.object({
  /** Who we became, e.g. the assumed-role ARN, the SA email, the service principal object id. */
  principal: z.string(),
  details: z.record(z.string(), z.string()),
});
export type IdentityResult = z.infer<typeof IdentityResult>;

export const PermissionCheck = z.object({
  permission: z.string(),
  required: z.boolean(),
  granted: z.boolean(),
  scope: z.string().optional(),
});
export type PermissionCheck = z.infer<typeof PermissionCheck>;

export const Resource = z.object({
  type: z.string(),
  id: z.string(),
  name: z.string(),
  details: z.record(z.string(), z.string()).optional(),
});
export type Resource = z.infer<typeof Resource>;

export const ResourcesResult = z.object({ resources: z.array(Resource), truncated: z.boolean() });
export type ResourcesResult = z.infer<typeof ResourcesResult>;

export const WizardStep = z.enum(WIZARD_STEPS);
export type WizardStep = z.infer<typeof WizardStep>;

/** One finding of "Verify trust": what a cloud would see when it reads our published issuer. */
export const TrustCheck = z.object({ check: z.string(), ok: z.boolean(), message: z.string() });
export type TrustCheck = z.infer<typeof TrustCheck>;

export const VerifyTrustResult = z.object({
  issuer: z.string(),
  ok: z.boolean(),
  checks: z.array(TrustCheck),
});
export type VerifyTrustResult = z.infer<typeof VerifyTrustResult>;
