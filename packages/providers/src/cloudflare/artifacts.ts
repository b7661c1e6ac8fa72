import type { Artifact } from '@alphaswarm/contracts';
import { PERMISSION_GROUPS } from './policies';

const DAY_MS = 86_400_000;

export interface CloudflareBootstrapInput {
  org_id: string;
  account_id: string | null;
  now: Date;
  maxTtlDays: number;
}

/**
 * The latest expiry we accept, rounded down to midnight UTC so the templates carry a stable
 * date that is still within the maximum TTL on the day they are generated.
 */
export function templateExpiry(now: Date, maxTtlDays: number): string {
  const limit = new Date(now.getTime() + maxTtlDays * DAY_MS);
  return `${limit.toISOString().slice(0, 10)}T00:00:00Z`;
}

/**
 * Where an account-owned token is created: Manage Account → Account API Tokens. The exact
 * dashboard path is unconfirmed; `?to=/:account/…` lets the dashboard pick the account.
 */
export function dashboardTokenUrl(accountId: string | null): string {
  return accountId
    ? `https://dash.cloudflare.com/${accountId}/api-tokens`
    : 'https://dash.cloudflare.com/?to=/:account/api-tokens';
}

export function cloudflareArtifacts(input: CloudflareBootstrapInput): Artifact[] {
  const name = `alphaswarm-${input.org_id}`;
  const expiresOn = templateExpiry(input.now, input.maxTtlDays);
  const account = input.account_id ?? '<account_id>';
  const accountGroups = PERMISSION_GROUPS.filter((g) => g.scope === 'com.cloudflare.api.account');
  const zoneGroups = PERMISSION_GROUPS.filter((g) => g.scope === 'com.cloudflare.api.account.zone');
  const line = (g: (typeof PERMISSION_GROUPS)[number]) =>
    `   - ${g.name} (${g.required ? 'required' : 'optional'}): ${g.why}`;

  const template = {
    name,
    expires_on: expiresOn,
    max_ttl_days: input.maxTtlDays,
    policies: [
      {
        effect: 'allow',
        resources: { [`com.cloudflare.api.account.${account}`]: '*' },
        permission_groups: accountGroups.map((g) => ({ name: g.name, required: g.required })),
      },
      {
        effect: 'allow',
        resources: { [`com.cloudflare.api.account.${account}`]: { 'com.cloudflare.api.account.zone.*': '*' } },
        permission_groups: zoneGroups.map((g) => ({ name: g.name, required: g.required })),
      },
    ],
  };

  const steps = `# Cloudflare API token for AlphaSwarm org ${input.org_id}

Cloudflare has no workload-identity federation for its API, so AlphaSwarm stores one scoped,
expiring account API token (encrypted) and warns 14 days before it expires.

1. Open ${dashboardTokenUrl(input.account_id)} (Manage Account → Account API Tokens) → Create Token → Custom token.
2. Name it \`${name}\`.
3. Permissions: add exactly these, nothing with Write/Edit beyond the optional rotation group:
${PERMISSION_GROUPS.map(line).join('\n')}
4. Account Resources: Include → this account only (${account}). Zone Resources: Include → All zones from this account.
5. TTL: set an end date no later than ${expiresOn.slice(0, 10)} (at most ${input.maxTtlDays} days ahead). Tokens without an
   expiry, or expiring later, are refused.
6. Create the token, then paste the account id and the token value into the wizard. The token value is shown once.

Tokens covering all accounts, or carrying other Write/Edit permissions, are refused unless the
wizard's "accept broad token" option is set, in which case the link is marked degraded.
`;

  const groupData = (g: (typeof PERMISSION_GROUPS)[number]) => {
    const id = g.name.toLowerCase().replace(/[^a-z0-9]+/g, '_');
    return {
      id,
      block: `data "cloudflare_account_api_token_permission_groups_list" "${id}" {
  account_id = var.account_id
  name       = ${JSON.stringify(g.name)}
  scope      = ${JSON.stringify(g.scope)}
}
`,
    };
  };
  const isRotation = (g: (typeof PERMISSION_GROUPS)[number]) => g.name === 'Account API Tokens Write';
  const ref = (g: (typeof PERMISSION_GROUPS)[number]) =>
    `{ id = data.cloudflare_account_api_token_permission_groups_list.${groupData(g).id}.result[0].id }`;
  const accountList = accountGroups.filter((g) => !isRotation(g)).map(ref);
  const rotation = accountGroups.filter(isRotation).map(ref);

  const terraform = `# Account-owned Cloudflare API token for AlphaSwarm org ${input.org_id}: exactly the permission
# groups AlphaSwarm needs, on this account only, expiring within ${input.maxTtlDays} days.
# After apply: terraform output -raw api_token, and paste it with the account id into the wizard.
terraform {
  required_providers {
    cloudflare = {
      source = "cloudflare/cloudflare"
      # 5.13 made policy resources a jsonencode()d string.
      version = ">= 5.13, < 6"
    }
  }
}

variable "account_id" {
  description = "Cloudflare account id (32 hex characters)."
  type        = string
${input.account_id ? `  default     = ${JSON.stringify(input.account_id)}\n` : ''}}

variable "expires_on" {
  description = "Token expiry (RFC 3339). AlphaSwarm refuses tokens expiring more than ${input.maxTtlDays} days after they are validated."
  type        = string
  default     = ${JSON.stringify(expiresOn)}
}

variable "allow_rotation" {
  description = "Also grant Account API Tokens Write so AlphaSwarm can roll this token in place. It lets the token manage the account's API tokens."
  type        = bool
  default     = false
}

${PERMISSION_GROUPS.map((g) => groupData(g).block).join('\n')}
resource "cloudflare_account_token" "alphaswarm" {
  account_id = var.account_id
  name       = ${JSON.stringify(name)}
  expires_on = var.expires_on

  policies = [
    {
      effect = "allow"
      permission_groups = concat(
        [
${accountList.map((r) => `          ${r},`).join('\n')}
        ],
        var.allow_rotation ? [${rotation.join(', ')}] : [],
      )
      resources = jsonencode({ "com.cloudflare.api.account.\${var.account_id}" = "*" })
    },
    {
      effect = "allow"
      permission_groups = [
${zoneGroups.map((g) => `        ${ref(g)},`).join('\n')}
      ]
      resources = jsonencode({
        "com.cloudflare.api.account.\${var.account_id}" = { "com.cloudflare.api.account.zone.*" = "*" }
      })
    },
  ]
}

output "token_id" {
  value = cloudflare_account_token.alphaswarm.id
}

output "api_token" {
  value     = cloudflare_account_token.alphaswarm.value
  sensitive = true
}
`;

  return [
    { name: 'cloudflare-token.md', media_type: 'text/markdown', content: steps },
    {
      name: 'cloudflare-token-template.json',
      media_type: 'application/json',
      content: `${JSON.stringify(template, null, 2)}\n`,
    },
    { name: 'main.tf', media_type: 'text/plain', content: terraform },
  ];
}
