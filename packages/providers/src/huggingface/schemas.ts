import { boundedText, secretText } from '@alphaswarm/contracts';
import { z } from 'zod';

/** What the operator enters to connect a Hugging Face link. */
export const HuggingFaceConnectInput = z.object({
  token: secretText(4096),
  namespace: boundedText(96, 1).optional(),
});
export type HuggingFaceConnectInput = z.infer<typeof HuggingFaceConnectInput>;

/** What credentials.issue hands out for a Hugging Face link. */
export const HuggingFaceIssued = z.object({ kind: z.literal('huggingface'), token: z.string(), namespace: z.string() });

/*
 * The parts of `GET /api/whoami-v2` we read (upstreams.md §1). Unknown keys are stripped, so the
 * upstream adding fields never breaks a probe; a missing or mistyped field we rely on does.
 */

export const TokenRole = z.enum(['read', 'write', 'fineGrained']);
export type TokenRole = z.infer<typeof TokenRole>;

const Name = z.string().min(1).max(256);

export const FineGrainedScope = z.object({
  entity: z.object({ type: z.string().max(64), name: Name }),
  permissions: z.array(z.string().max(128)).max(512),
});

export const FineGrained = z.object({
  canReadGatedRepos: z.boolean().optional(),
  global: z.array(z.string().max(128)).max(512).default([]),
  scoped: z.array(FineGrainedScope).max(1024).default([]),
});

export const AccessToken = z.object({
  displayName: z.string().max(256),
  role: TokenRole,
  fineGrained: FineGrained.optional(),
  expiration: z
    .string()
    .max(64)
    .refine((v) => !Number.isNaN(Date.parse(v)), 'not a date')
    .optional(),
});

export const WhoAmIV2Response = z.object({
  type: z.enum(['user', 'org', 'app']),
  name: Name,
  fullname: z.string().max(512).nullish(),
  email: z.string().max(512).nullish(),
  orgs: z
    .array(z.object({ name: Name, type: z.string().max(32).optional(), roleInOrg: z.string().max(32).nullish() }))
    .max(1024)
    .default([]),
  auth: z.object({
    type: z.string().max(64),
    accessToken: AccessToken.optional(),
  }),
});
export type WhoAmIV2Response = z.infer<typeof WhoAmIV2Response>;
/** What the upstream sends (and the fake serves): defaults not yet applied. */
export type WhoAmIV2Body = z.input<typeof WhoAmIV2Response>;

/** Error bodies: `{error}` (string or list), sometimes `error_description` or `errors[].message`. */
export const HfErrorBody = z.object({
  error: z.union([z.string(), z.array(z.string())]).optional(),
  error_description: z.string().optional(),
  errors: z.array(z.object({ message: z.string().optional() })).optional(),
});

/** Link metadata for a `huggingface` link: public, never secret. */
export const HuggingFaceLinkMetadata = z.object({
  type: z.enum(['org', 'user']),
  auth_email: z.string().nullable(),
  orgs: z.array(z.string()),
  token_name: z.string(),
  token_role: TokenRole,
  fine_grained: z
    .object({
      scoped: z.array(z.object({ entity: z.string(), type: z.string(), permissions: z.array(z.string()) })),
      global: z.array(z.string()),
    })
    .optional(),
  expires_at: z.string().optional(),
});
export type HuggingFaceLinkMetadata = z.infer<typeof HuggingFaceLinkMetadata>;
