import { describe, expect, it } from 'vitest';
import { CredentialKey, OrgId, parseCredentialKey, renderCredentialKey } from './credential-key';
import { StoreFileRecord } from './store-file';

describe('CredentialKey', () => {
  it('renders <kind>:org:<org_id> and parses it back', () => {
    expect(renderCredentialKey({ kind: 'huggingface', org_id: 'org-acme' })).toBe('huggingface:org:org-acme');
    expect(parseCredentialKey('cloud_gcp:org:Acme.v2_x')).toEqual({ kind: 'cloud_gcp', org_id: 'Acme.v2_x' });
  });

  it.each([
    ['', 'empty'],
    ['-acme', 'leading dash'],
    ['.acme', 'leading dot'],
    ['acme corp', 'space'],
    ['acme/corp', 'slash'],
    ['a'.repeat(65), 'too long'],
    ['ünïcode', 'non-ASCII'],
  ])('rejects org_id %j (%s) instead of normalising it', (value) => {
    expect(OrgId.safeParse(value).success).toBe(false);
    expect(() => renderCredentialKey({ kind: 'huggingface', org_id: value })).toThrow();
  });

  it('accepts 1 and 64 characters', () => {
    expect(OrgId.parse('a')).toBe('a');
    expect(OrgId.parse('A'.repeat(64))).toHaveLength(64);
  });

  it.each(['huggingface:org-acme', 'gitlab:org:acme', 'huggingface:org:', 'huggingface:team:acme'])(
    'rejects the credential key %j with a readable message',
    (value) => {
      const result = CredentialKey.safeParse(value);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/<kind>:org:<org_id>/);
    },
  );
});

describe('StoreFileRecord', () => {
  it('requires RFC 3339 UTC timestamps with Z', () => {
    const base = {
      credential_key: 'huggingface:org:acme',
      org_id: 'acme',
      kind: 'huggingface',
      namespace: 'acme',
      status: 'healthy',
      last_health_at: null,
      error: null,
      metadata: {},
      secret: null,
    };
    expect(StoreFileRecord.safeParse({ ...base, connected_at: '2026-05-27T20:00:00Z' }).success).toBe(true);
    expect(StoreFileRecord.safeParse({ ...base, connected_at: '2026-05-27T20:00:00+02:00' }).success).toBe(false);
    expect(StoreFileRecord.safeParse({ ...base, connected_at: 'yesterday' }).success).toBe(false);
  });
});
