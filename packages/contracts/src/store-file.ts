import { z } from 'zod';
import { OrgId } from './credential-key';
import { IntegrationError, IntegrationStatus, Timestamp } from './integration';
import { IntegrationKind } from './kinds';
import { boundedText, secretText } from './text';

export const STORE_FILE_FORMAT = 'alphaswarm.integrations';
export const STORE_FILE_VERSION = 1;

/**
 * What one record may hold, checked the same way by a dry run and an import (and by the console
 * and the CLI): anything that passes can be stored and exported again.
 */
export const STORE_RECORD_LIMITS = {
  /** Objects and arrays nested inside metadata. */
  metadataDepth: 32,
  /** Metadata as JSON, in UTF-16 code units (about bytes for the ASCII it holds). */
  metadataLength: 256 * 1024,
} as const;

/** C0 and C1 control characters (NUL, CR, LF, ESC…): never part of a name or a stored value. */
const CONTROL = /\p{Cc}/u;

/**
 * Walk metadata without recursion (so no input can exhaust the stack), failing on the first
 * limit it crosses: depth, size, or a control character in a key or a string.
 */
export function metadataProblem(metadata: Record<string, unknown>): string | null {
  const { metadataDepth, metadataLength } = STORE_RECORD_LIMITS;
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: metadata, depth: 1, path: 'metadata' }];
  let length = 0;
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value === 'string') {
      length += value.length + 2;
      if (CONTROL.test(value)) return `${path} must not contain control characters (NUL, CR, LF, …)`;
    } else if (value !== null && typeof value === 'object') {
      if (depth > metadataDepth) return `metadata is nested deeper than ${metadataDepth} levels`;
      const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
      length += 2 + entries.length;
      if (length > metadataLength) break;
      for (const [key, item] of entries) {
        if (!Array.isArray(value)) {
          length += key.length + 3;
          if (CONTROL.test(key)) return `a key in ${path} must not contain control characters (NUL, CR, LF, …)`;
        }
        stack.push({ value: item, depth: depth + 1, path: `${path}.${key.slice(0, 40)}` });
      }
    } else {
      length += String(value).length;
    }
    if (length > metadataLength) break;
  }
  return length > metadataLength ? `metadata is larger than ${metadataLength / 1024} KiB` : null;
}

export const StoreFileMetadata = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = metadataProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const StoreFileRecord = z.object({
  credential_key: boundedText(128),
  org_id: OrgId,
  kind: IntegrationKind,
  namespace: boundedText(256),
  status: IntegrationStatus,
  connected_at: Timestamp,
  last_health_at: Timestamp.nullable(),
  last_health_status: IntegrationStatus.nullable().optional().default(null),
  error: IntegrationError.nullable(),
  metadata: StoreFileMetadata,
  secret: secretText(65536).nullable(),
});
export type StoreFileRecord = z.infer<typeof StoreFileRecord>;

export const StoreFile = z.object({
  format: z.literal(STORE_FILE_FORMAT),
  version: z.literal(STORE_FILE_VERSION),
  exported_at: Timestamp,
  integrations: z.array(z.unknown()),
});
export type StoreFile = z.infer<typeof StoreFile>;

export const OnConflict = z.enum(['fail', 'skip', 'replace']);
export type OnConflict = z.infer<typeof OnConflict>;
