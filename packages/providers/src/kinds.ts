// The browser-safe entry (`@alphaswarm/providers/kinds`): each kind as plain data, no zod, no SDK.
import type { IntegrationKind } from '@alphaswarm/contracts';
import { awsFacts } from './aws/facts';
import { azureFacts } from './azure/facts';
import { cloudflareFacts } from './cloudflare/facts';
import { dockerHubFacts } from './docker-hub/facts';
import { gcpFacts } from './gcp/facts';
import { huggingfaceFacts } from './huggingface/facts';
import type { KindFacts } from './shared/descriptor';

export const kinds = {
  huggingface: huggingfaceFacts,
  docker_hub: dockerHubFacts,
  cloud_aws: awsFacts,
  cloud_azure: azureFacts,
  cloud_gcp: gcpFacts,
  cloud_cloudflare: cloudflareFacts,
} satisfies Record<IntegrationKind, KindFacts>;

export { CLOUD_WIZARD, type KindFacts, PAT_WIZARD, workloadSubject } from './shared/descriptor';
