import { z } from 'zod';

/** What the operator hands back in step 2: the tenant, the app registration, optionally subscriptions. */
/*
 * GUIDs as Entra shows them: any hex in the 8-4-4-4-12 layout. An RFC 4122 check (z.uuid) refused
 * real-looking ids whose version or variant digit is not a standard one.
 */
const guid = (message: string) => z.string({ error: message }).regex(GUID, message);
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const AzureIdentityParams = z.object({
  tenant_id: guid(
    "The tenant id is a GUID like 00000000-0000-0000-0000-000000000000, shown as Directory (tenant) ID on the app registration's Overview page.",
  ),
  client_id: guid(
    "The client id is a GUID like 00000000-0000-0000-0000-000000000000, shown on the app registration's Overview page",
  ),
  subscription_ids: z
    .array(
      guid(
        'Each subscription id is a GUID like 00000000-0000-0000-0000-000000000000, listed on the Subscriptions page of the Azure portal.',
      ),
    )
    .max(100, 'At most 100 subscription ids.')
    .optional(),
});
export type AzureIdentityParams = z.infer<typeof AzureIdentityParams>;

/** A short-lived ARM access token credentials.issue mints for an Azure link. */
export const AzureIssued = z.object({
  kind: z.literal('cloud_azure'),
  access_token: z.string(),
  expires_at: z.string(),
  tenant_id: z.string(),
  client_id: z.string(),
});

/*
 * The parts of the Entra and ARM answers we read (upstreams.md §4). Unknown keys are stripped,
 * so new upstream fields never break a probe; a missing or mistyped field we rely on does.
 */

/** The audience Entra expects in a federated client assertion. */
export const AZURE_AUDIENCE = 'api://AzureADTokenExchange';

const Str = z.string().max(2048);

/** Claims of the ARM access token we report (decoded, never verified: it is Entra's to verify). */
export const ArmTokenClaims = z.object({
  tid: z.string().max(64),
  oid: z.string().max(64),
  appid: z.string().max(64).optional(),
  aud: z.union([Str, z.array(Str)]).optional(),
});
export type ArmTokenClaims = z.infer<typeof ArmTokenClaims>;

/** `GET /subscriptions?api-version=2022-12-01` */
export const SubscriptionListResponse = z.object({
  value: z
    .array(
      z.object({
        id: Str.optional(),
        subscriptionId: z.string().max(64),
        tenantId: z.string().max(64).optional(),
        displayName: z.string().max(256).default(''),
        state: z.string().max(32).optional(),
      }),
    )
    .max(10_000),
  nextLink: Str.nullish(),
});
export type SubscriptionListResponse = z.infer<typeof SubscriptionListResponse>;
export type SubscriptionListBody = z.input<typeof SubscriptionListResponse>;

const Actions = z.array(z.string().max(512)).max(10_000).default([]);

/** `GET /subscriptions/{id}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01` */
export const PermissionListResponse = z.object({
  value: z
    .array(z.object({ actions: Actions, notActions: Actions, dataActions: Actions, notDataActions: Actions }))
    .max(10_000),
  nextLink: Str.nullish(),
});
export type PermissionListResponse = z.infer<typeof PermissionListResponse>;
export type PermissionListBody = z.input<typeof PermissionListResponse>;

/** ARM errors: `{error: {code, message}}`. */
export const ArmErrorBody = z.object({
  error: z.object({ code: z.string().max(256).optional(), message: z.string().max(4096).optional() }),
});

/** Link metadata for a `cloud_azure` link: identifiers only. */
export const AzureLinkMetadata = z.object({
  tenant_id: z.string(),
  client_id: z.string(),
  object_id: z.string(),
  subscription_ids: z.array(z.string()),
});
export type AzureLinkMetadata = z.infer<typeof AzureLinkMetadata>;
