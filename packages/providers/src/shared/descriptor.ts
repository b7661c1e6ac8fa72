import type { CloudKind, IntegrationKind, PatKind, WizardStep } from '@alphaswarm/contracts';
import type { z } from 'zod';

/*
 * What generic code (store file, wizard service, log redaction, console lists) knows of a kind,
 * so it never names one. This module is zod-free and SDK-free at run time (type imports only):
 * the browser and packages/db can load it.
 */

/** Every cloud kind walks the same five steps; a PAT kind is one form. */
export const CLOUD_WIZARD = [
  'bootstrap_artifacts',
  'validate_identity',
  'validate_permissions',
  'enumerate_resources',
  'connect',
] as const satisfies readonly WizardStep[];
export const PAT_WIZARD = ['connect'] as const satisfies readonly WizardStep[];

/** A kind as plain data: no zod, no SDK; fit for the browser. */
export interface KindFacts<K extends IntegrationKind = IntegrationKind> {
  kind: K;
  /** The upstream's one spelling, in the console and in messages. */
  label: string;
  family: 'pat' | 'cloud';
  /** The link stores an encrypted secret (PAT or API token); federated kinds store nothing secret. */
  secretBearing: boolean;
  /**
   * Fields of what the operator enters (the connect form of a PAT kind, the wizard params of a
   * cloud) that are secrets: sealed at rest, masked when shown, redacted from logs.
   */
  secretParams: readonly string[];
  /** Shown on disconnect: the local record is gone, the upstream credential is not. */
  revocationGuidance: string;
  /** The steps the console walks through. */
  wizard: readonly WizardStep[];
  /** When the stored credential expires, read from the link's metadata (RFC 3339 UTC), or null. */
  expiresAt(metadata: Readonly<Record<string, unknown>>): string | null;
  /** `org:<org_id>:<kind>`: the `sub` of our workload tokens for this link. */
  subject(orgId: string): string;
}

/** A kind's facts plus its schemas (zod, still no SDK): what the server and packages/db read. */
export interface Descriptor<K extends IntegrationKind = IntegrationKind> extends KindFacts<K> {
  /** Plaintext JSON inside the link's Fernet token; null for federated kinds. */
  secretSchema: z.ZodType | null;
  /** What the operator enters: the connect input of a PAT kind, the identity params of a cloud. */
  inputSchema: z.ZodType;
}

/** `org:<org_id>:<kind>`, built here only. */
export function workloadSubject(kind: IntegrationKind, orgId: string): string {
  return `org:${orgId}:${kind}`;
}

/**
 * The expiry a kind records in its link metadata under `field`, normalised to RFC 3339 UTC with
 * second precision; null when absent or not a date. `null` field: the credential never expires.
 */
function expiryReader(field: string | null): KindFacts['expiresAt'] {
  return (metadata) => {
    const value = field === null ? undefined : metadata[field];
    if (typeof value !== 'string') return null;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  };
}

interface FactsInput<K extends IntegrationKind> {
  kind: K;
  label: string;
  secretParams: readonly string[];
  revocationGuidance: string;
  /** The metadata field holding the credential's expiry; null when it never expires. */
  expiryField: string | null;
}

export function patFacts<K extends PatKind>(input: FactsInput<K>): KindFacts<K> {
  return {
    kind: input.kind,
    label: input.label,
    family: 'pat',
    secretBearing: true,
    secretParams: input.secretParams,
    revocationGuidance: input.revocationGuidance,
    wizard: PAT_WIZARD,
    expiresAt: expiryReader(input.expiryField),
    subject: (orgId) => workloadSubject(input.kind, orgId),
  };
}

export function cloudFacts<K extends CloudKind>(input: FactsInput<K> & { secretBearing: boolean }): KindFacts<K> {
  return {
    kind: input.kind,
    label: input.label,
    family: 'cloud',
    secretBearing: input.secretBearing,
    secretParams: input.secretParams,
    revocationGuidance: input.revocationGuidance,
    wizard: CLOUD_WIZARD,
    expiresAt: expiryReader(input.expiryField),
    subject: (orgId) => workloadSubject(input.kind, orgId),
  };
}
