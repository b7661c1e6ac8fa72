// `@alphaswarm/contracts/kinds`: every kind as plain data, for the browser and for generic code.
// No zod and no SDK may be loaded from here (kinds.test.ts walks the module graph).
import { aws } from './aws';
import { azure } from './azure';
import { cloudflare } from './cloudflare';
import { dockerHub } from './docker-hub';
import type { CloudFacts, KindFacts, PatFacts } from './facts';
import { gcp } from './gcp';
import { huggingface } from './huggingface';

/** The one list of kinds: adding a kind is its file beside this one plus one line here. */
export const kinds = {
  huggingface,
  docker_hub: dockerHub,
  cloud_aws: aws,
  cloud_azure: azure,
  cloud_gcp: gcp,
  cloud_cloudflare: cloudflare,
} as const satisfies Record<string, KindFacts>;

type Kinds = typeof kinds;
export type IntegrationKind = keyof Kinds;
export type PatKind = { [K in IntegrationKind]: Kinds[K] extends PatFacts ? K : never }[IntegrationKind];
export type CloudKind = { [K in IntegrationKind]: Kinds[K] extends CloudFacts ? K : never }[IntegrationKind];
/** The name of a PAT kind's connect procedure, `integrations.connect.<name>`. */
export type ConnectProcedure<K extends PatKind = PatKind> = Kinds[K]['connectProcedure'];

type NonEmpty<T> = readonly [T, ...T[]];

export const INTEGRATION_KINDS = Object.keys(kinds) as unknown as NonEmpty<IntegrationKind>;
export const PAT_KINDS = INTEGRATION_KINDS.filter(isPatKind) as unknown as NonEmpty<PatKind>;
export const CLOUD_KINDS = INTEGRATION_KINDS.filter(isCloudKind) as unknown as NonEmpty<CloudKind>;

export function isIntegrationKind(value: unknown): value is IntegrationKind {
  return typeof value === 'string' && Object.hasOwn(kinds, value);
}

export function isPatKind(kind: IntegrationKind): kind is PatKind {
  return kinds[kind].family === 'pat';
}

function isCloudKind(kind: IntegrationKind): kind is CloudKind {
  return kinds[kind].family === 'cloud';
}

/** The facts of a kind, typed for generic code. */
export function factsOf(kind: IntegrationKind): KindFacts {
  return kinds[kind];
}

/** Whether a kind's link carries an encrypted secret (the rest are federated: nothing secret stored). */
export function isSecretBearing(kind: IntegrationKind): boolean {
  return kinds[kind].secretBearing;
}

/** The kind a REST path segment names: the kind itself or one of its REST aliases. */
export function kindOfRestSegment(segment: string): IntegrationKind | undefined {
  if (isIntegrationKind(segment)) return segment;
  return INTEGRATION_KINDS.find((k) => kinds[k].restAliases.includes(segment));
}

/** Every field name, across kinds, that carries a secret the operator entered. */
export const SECRET_PARAMS: readonly string[] = [...new Set(INTEGRATION_KINDS.flatMap((k) => kinds[k].secretParams))];

export { EXPIRY_WARNING_DAYS, type ExpiryState, expiryState, inDays } from './expiry';
export {
  CLOUD_WIZARD,
  type CloudFacts,
  cloudFacts,
  type KindFacts,
  PAT_WIZARD,
  type PatFacts,
  patFacts,
  rfc3339,
  WIZARD_STEPS,
  type WizardStepName,
  workloadSubject,
} from './facts';
