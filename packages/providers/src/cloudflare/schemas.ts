import { secretText } from '@alphaswarm/contracts';
import { z } from 'zod';

/** What the operator hands back in step 2: the account and the API token made from the template. */
export const CloudflareIdentityParams = z.object({
  account_id: z.string().regex(/^[0-9a-f]{32}$/, 'account_id is the 32-character hex id from the dashboard URL'),
  api_token: secretText(4096),
  accept_broad_token: z.boolean().optional(),
});
export type CloudflareIdentityParams = z.infer<typeof CloudflareIdentityParams>;

/** The stored API token credentials.issue hands out for a Cloudflare link. */
export const CloudflareIssued = z.object({
  kind: z.literal('cloud_cloudflare'),
  api_token: z.string(),
  account_id: z.string(),
  expires_at: z.string().nullable(),
});

/*
 * The parts of Cloudflare API v4 answers we read (upstreams.md §6). Unknown keys are stripped,
 * so new upstream fields never break a probe; a missing or mistyped field we rely on does.
 */

const Id = z.string().min(1).max(64);
const Name = z.string().max(512);
const Timestamp = z
  .string()
  .max(64)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a date');

export const CfMessage = z.object({
  code: z.number().int(),
  message: z.string().max(4096).default(''),
  error_chain: z.array(z.object({ code: z.number().int(), message: z.string().max(4096).default('') })).optional(),
});
export type CfMessage = z.infer<typeof CfMessage>;

export const ResultInfo = z.object({
  page: z.number().int().min(0),
  per_page: z.number().int().min(0),
  count: z.number().int().min(0).optional(),
  total_count: z.number().int().min(0).optional(),
  total_pages: z.number().int().min(0).optional(),
});
export type ResultInfo = z.infer<typeof ResultInfo>;

/** Every v4 answer: `{success, errors, messages, result, result_info?}`. */
export function envelope<T extends z.ZodType>(result: T) {
  return z.object({
    success: z.boolean(),
    errors: z.array(CfMessage).max(100).default([]),
    messages: z.array(z.unknown()).max(100).default([]),
    result: result,
    result_info: ResultInfo.optional(),
  });
}

/** Only the error part, for any status. */
export const CfErrorEnvelope = z.object({
  success: z.boolean().optional(),
  errors: z.array(CfMessage).max(100).default([]),
});

export const TokenStatus = z.enum(['active', 'disabled', 'expired']);

/** `GET /user/tokens/verify`, `GET /accounts/{id}/tokens/verify` */
export const VerifyResult = z.object({
  id: Id,
  status: TokenStatus,
  not_before: Timestamp.nullish(),
  expires_on: Timestamp.nullish(),
});
export type VerifyResult = z.infer<typeof VerifyResult>;

/**
 * Policy resources: a map from resource pattern to `"*"`, or (account → zones) one level deeper,
 * e.g. `{"com.cloudflare.api.account.<id>": {"com.cloudflare.api.account.zone.*": "*"}}`.
 * The nested form is documented for token creation; that reads return it the same way is unconfirmed.
 */
export type PolicyResources = { [pattern: string]: string | PolicyResources };
export const PolicyResources: z.ZodType<PolicyResources> = z.lazy(() =>
  z.record(z.string().max(256), z.union([z.string().max(256), PolicyResources])),
);

export const TokenPolicy = z.object({
  id: z.string().max(64).optional(),
  effect: z.enum(['allow', 'deny']),
  resources: PolicyResources,
  permission_groups: z.array(z.object({ id: Id, name: Name.optional() })).max(500),
});
export type TokenPolicy = z.infer<typeof TokenPolicy>;

/**
 * `GET /accounts/{account_id}/tokens/{token_id}` (or `/user/tokens/{id}`): the token with its
 * policies. Shape per the API reference and cloudflare-go's token tests.
 */
export const TokenDetails = z.object({
  id: Id,
  name: Name.optional(),
  status: TokenStatus,
  not_before: Timestamp.nullish(),
  expires_on: Timestamp.nullish(),
  policies: z.array(TokenPolicy).max(500),
});
export type TokenDetails = z.infer<typeof TokenDetails>;

export const Account = z.object({ id: Id, name: Name.default('') });
export const Zone = z.object({
  id: Id,
  name: Name,
  status: z.string().max(64).optional(),
  account: z.object({ id: Id, name: Name.optional() }).optional(),
});

export const VerifyEnvelope = envelope(VerifyResult);
export const TokenDetailsEnvelope = envelope(TokenDetails);
export const AccountsEnvelope = envelope(z.array(Account).max(1000));
export const ZonesEnvelope = envelope(z.array(Zone).max(1000));
/** `PUT …/tokens/{id}/value`: the new secret as a bare string. */
export const RollEnvelope = envelope(z.string().min(1).max(4096));

/** Bodies as the upstream sends them (the fake is typed against these). */
export type VerifyBody = z.input<typeof VerifyEnvelope>;
export type TokenDetailsBody = z.input<typeof TokenDetailsEnvelope>;
export type AccountsBody = z.input<typeof AccountsEnvelope>;
export type ZonesBody = z.input<typeof ZonesEnvelope>;
export type RollBody = z.input<typeof RollEnvelope>;

/** Link metadata for a `cloud_cloudflare` link: public, never secret. */
export const CloudflareLinkMetadata = z.object({
  account_id: z.string(),
  token_id: z.string(),
  expires_on: z.string().nullable(),
  permission_groups: z.array(z.string()),
  /** Which verify route accepted it: account-owned (recommended) or user-owned token. */
  token_owner: z.enum(['account', 'user']).default('account'),
});
export type CloudflareLinkMetadata = z.infer<typeof CloudflareLinkMetadata>;
