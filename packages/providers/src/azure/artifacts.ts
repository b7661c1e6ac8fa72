import type { Artifact } from '@alphaswarm/contracts';
import { shellQuote } from '../shared/text';

export interface AzureBootstrapInput {
  org_id: string;
  issuer: string;
  subject: string;
  audience: string;
  subscription_ids: readonly string[];
}

const PLACEHOLDER_SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';

/** What the customer runs in their tenant: `az` commands, Terraform, and the bare credential JSON. */
export function azureArtifacts(input: AzureBootstrapInput): Artifact[] {
  const name = `alphaswarm-${input.org_id}`.slice(0, 120);
  const description = `Lets AlphaSwarm org ${input.org_id} read this tenant's subscriptions (no secret is stored).`;
  const credential = {
    name,
    issuer: input.issuer,
    subject: input.subject,
    audiences: [input.audience],
    description,
  };
  const subs = input.subscription_ids.length > 0 ? input.subscription_ids : [PLACEHOLDER_SUBSCRIPTION];
  const pickNote =
    input.subscription_ids.length > 0
      ? ''
      : '# Replace the placeholder with the subscription ids AlphaSwarm may read.\n';

  const script = `#!/usr/bin/env bash
# Links this Microsoft Entra tenant to AlphaSwarm org ${input.org_id}:
# an app registration whose federated identity credential trusts AlphaSwarm's workload issuer,
# and the Reader role on the chosen subscriptions. No client secret is created.
# Run with Azure CLI >= 2.50, signed in (az login) as someone who can create app registrations
# and assign roles on the subscriptions.
set -euo pipefail

${pickNote}SUBSCRIPTION_IDS=(${subs.map(shellQuote).join(' ')})

APP_ID=$(az ad app create --display-name ${shellQuote(name)} --query appId -o tsv)
SP_OBJECT_ID=$(az ad sp create --id "$APP_ID" --query id -o tsv)

az ad app federated-credential create --id "$APP_ID" --parameters ${shellQuote(JSON.stringify(credential))}

for SUB in "\${SUBSCRIPTION_IDS[@]}"; do
  az role assignment create \\
    --assignee-object-id "$SP_OBJECT_ID" \\
    --assignee-principal-type ServicePrincipal \\
    --role Reader \\
    --scope "/subscriptions/$SUB"
done

echo "Enter these in the AlphaSwarm wizard:"
echo "  tenant_id: $(az account show --query tenantId -o tsv)"
echo "  client_id: $APP_ID"
`;

  const terraform = `# Links this Microsoft Entra tenant to AlphaSwarm org ${input.org_id}: an app registration whose
# federated identity credential trusts AlphaSwarm's workload issuer, and Reader on the chosen
# subscriptions. No client secret is created. Apply, then enter the outputs in the wizard.
terraform {
  required_providers {
    azuread = {
      source  = "hashicorp/azuread"
      version = "~> 3.0"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

variable "subscription_ids" {
  description = "Subscriptions AlphaSwarm may read (Reader role)."
  type        = list(string)
  default     = [${subs.map(hclString).join(', ')}]
}

provider "azuread" {}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_ids[0]
}

data "azuread_client_config" "current" {}

resource "azuread_application" "alphaswarm" {
  display_name = ${hclString(name)}
}

resource "azuread_service_principal" "alphaswarm" {
  client_id = azuread_application.alphaswarm.client_id
}

resource "azuread_application_federated_identity_credential" "alphaswarm" {
  application_id = azuread_application.alphaswarm.id
  display_name   = ${hclString(name)}
  description    = ${hclString(description)}
  # All three must match AlphaSwarm's token exactly (case-sensitive, no trailing slash added).
  issuer    = ${hclString(input.issuer)}
  subject   = ${hclString(input.subject)}
  audiences = [${hclString(input.audience)}]
}

resource "azurerm_role_assignment" "alphaswarm_reader" {
  for_each             = toset(var.subscription_ids)
  scope                = "/subscriptions/\${each.value}"
  role_definition_name = "Reader"
  principal_id         = azuread_service_principal.alphaswarm.object_id
  principal_type       = "ServicePrincipal"
}

output "tenant_id" {
  value = data.azuread_client_config.current.tenant_id
}

output "client_id" {
  value = azuread_application.alphaswarm.client_id
}

output "subscription_ids" {
  value = var.subscription_ids
}
`;

  return [
    { name: 'azure-link.sh', media_type: 'text/x-shellscript', content: script },
    { name: 'main.tf', media_type: 'text/plain', content: terraform },
    {
      name: 'federated-credential.json',
      media_type: 'application/json',
      content: `${JSON.stringify(credential, null, 2)}\n`,
    },
  ];
}

function hclString(value: string): string {
  // JSON string escaping is valid HCL; `${` and `%{` must also be escaped to stay literal.
  return JSON.stringify(value).replace(/\$\{/g, '$${').replace(/%\{/g, '%%{');
}
