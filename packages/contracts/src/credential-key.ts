import { z } from 'zod';
import { IntegrationKind } from './kinds';

const ORG_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const OrgId = z
  .string()
  .max(64, 'org_id must be at most 64 characters')
  .regex(ORG_ID_RE, 'org_id must be 1-64 characters of [A-Za-z0-9._-] starting with a letter or digit');
export type OrgId = z.infer<typeof OrgId>;

export interface CredentialKeyParts {
  kind: IntegrationKind;
  org_id: OrgId;
}

export function renderCredentialKey(parts: CredentialKeyParts): string {
  IntegrationKind.parse(parts.kind);
  OrgId.parse(parts.org_id);
  return `${parts.kind}:org:${parts.org_id}`;
}

export const CredentialKey = z
  .string()
  .max(128)
  .transform((value, ctx): CredentialKeyParts => {
    const match = /^([a-z_]+):org:(.*)$/.exec(value);
    const kind = IntegrationKind.safeParse(match?.[1]);
    const org = OrgId.safeParse(match?.[2]);
    if (!match || !kind.success || !org.success) {
      ctx.addIssue({
        code: 'custom',
        message: `credential_key must look like <kind>:org:<org_id> with a known kind and a valid org_id, got ${JSON.stringify(value.slice(0, 80))}`,
      });
      return z.NEVER;
    }
    return { kind: kind.data, org_id: org.data };
  });

export function parseCredentialKey(value: string): CredentialKeyParts {
  return CredentialKey.parse(value);
}
