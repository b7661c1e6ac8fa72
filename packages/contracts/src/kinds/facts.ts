/*
 * What generic code knows of a kind (the API's services, the store file, log redaction, the
 * console's lists), so that it never names one. Plain data and plain functions: no zod, no SDK,
 * fit for the browser.
 */

/** The five steps every cloud kind walks; a PAT kind is one form, its `connect`. */
export const WIZARD_STEPS = [
  'bootstrap_artifacts',
  'validate_identity',
  'validate_permissions',
  'enumerate_resources',
  'connect',
] as const;
export type WizardStepName = (typeof WIZARD_STEPS)[number];

export const CLOUD_WIZARD = WIZARD_STEPS;
export const PAT_WIZARD = ['connect'] as const satisfies readonly WizardStepName[];

interface Common<K extends string> {
  kind: K;
  /** The upstream's one spelling, in the console and in every message. */
  label: string;
  /** A short mark for dense lists (the console gives the label beside it for screen readers). */
  mark: string;
  /** One sentence the console shows before the kind is connected. */
  summary: string;
  /** The link stores an encrypted secret (PAT or API token); federated kinds store nothing secret. */
  secretBearing: boolean;
  /**
   * Fields of what the operator enters (a PAT kind's connect form, a cloud's wizard params) that
   * are secrets: sealed at rest, masked when shown, redacted from logs, never echoed into a form.
   */
  secretParams: readonly string[];
  /** Shown on disconnect: the local record is gone, the upstream credential is not. */
  revocationGuidance: string;
  /** The stored secret can be rolled upstream through the API (`integrations.rotate`). */
  rotatable: boolean;
  /** Other names the REST compatibility routes accept for the kind (existing callers' spelling). */
  restAliases: readonly string[];
  /** When the stored credential expires, read from the link's metadata (RFC 3339 UTC), or null. */
  expiresAt(metadata: Readonly<Record<string, unknown>>): string | null;
  /** `org:<org_id>:<kind>`: the `sub` of our workload tokens for this link. */
  subject(orgId: string): string;
}

/** A kind linked with a personal access token the operator pastes into one form. */
export interface PatFacts<K extends string = string, P extends string = string> extends Common<K> {
  family: 'pat';
  wizard: typeof PAT_WIZARD;
  /** Its connect procedure: `integrations.connect.<connectProcedure>`. */
  connectProcedure: P;
}

/** A kind onboarded through the five-step cloud wizard. */
export interface CloudFacts<K extends string = string> extends Common<K> {
  family: 'cloud';
  wizard: typeof CLOUD_WIZARD;
}

export type KindFacts = PatFacts | CloudFacts;

/** `org:<org_id>:<kind>`, built here only. */
export function workloadSubject(kind: string, orgId: string): string {
  return `org:${orgId}:${kind}`;
}

/** RFC 3339 UTC with a Z and second precision, the form every stored timestamp takes. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The expiry a kind records in its link metadata under `field`, normalised to RFC 3339 UTC;
 * null when absent or not a date. A `null` field: the credential never expires.
 */
function expiryReader(field: string | null): Common<string>['expiresAt'] {
  return (metadata) => {
    const value = field === null ? undefined : metadata[field];
    if (typeof value !== 'string') return null;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : rfc3339(ms);
  };
}

interface FactsInput<K extends string> {
  kind: K;
  label: string;
  mark: string;
  summary: string;
  secretParams: readonly string[];
  revocationGuidance: string;
  /** The metadata field holding the credential's expiry; null when it never expires. */
  expiryField: string | null;
  rotatable?: boolean;
  restAliases?: readonly string[];
}

export function patFacts<const K extends string, const P extends string>(
  input: FactsInput<K> & { connectProcedure: P },
): PatFacts<K, P> {
  return {
    ...common(input, true),
    family: 'pat',
    wizard: PAT_WIZARD,
    connectProcedure: input.connectProcedure,
  };
}

export function cloudFacts<const K extends string>(input: FactsInput<K> & { secretBearing: boolean }): CloudFacts<K> {
  return { ...common(input, input.secretBearing), family: 'cloud', wizard: CLOUD_WIZARD };
}

function common<K extends string>(input: FactsInput<K>, secretBearing: boolean): Common<K> {
  return {
    kind: input.kind,
    label: input.label,
    mark: input.mark,
    summary: input.summary,
    secretBearing,
    secretParams: input.secretParams,
    revocationGuidance: input.revocationGuidance,
    rotatable: input.rotatable ?? false,
    restAliases: input.restAliases ?? [],
    expiresAt: expiryReader(input.expiryField),
    subject: (orgId) => workloadSubject(input.kind, orgId),
  };
}
