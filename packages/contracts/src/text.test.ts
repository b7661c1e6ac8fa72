import { describe, expect, it } from 'vitest';
import { StoreFileRecord } from './store-file';
import { boundedText, documentText, secretText } from './text';
import { SessionInput } from './wizard';

const BAD = ['\u0000', '\u0007', '\n', '\u001b', '\u007f', '\u0085', '\u009f', '\ud800', '\udfff', 'a\udc00b'];

describe('the one text rule for inputs', () => {
  it('boundedText: any well-formed text without control characters, within its bounds', () => {
    const name = boundedText(8, 1);
    for (const ok of ['a', 'acme-org', 'café', '𝕏 and 😀', '\u2028x'])
      expect(name.safeParse(ok).success, ok).toBe(true);
    for (const bad of [...BAD, '', 'x'.repeat(9)]) expect(name.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(name.safeParse('a\u0000').error?.issues[0]?.message).toMatch(/control characters/);
  });

  it('documentText: also line breaks and tabs, as files have', () => {
    const doc = documentText(100);
    expect(doc.safeParse('{\n\t"a": 1\r\n}').success).toBe(true);
    for (const bad of BAD.filter((c) => c !== '\n'))
      expect(doc.safeParse(`{${bad}}`).success, JSON.stringify(bad)).toBe(false);
  });

  it('secretText: visible ASCII only, as issued', () => {
    const token = secretText(64);
    expect(token.safeParse('hf_AbC123-._~!').success).toBe(true);
    for (const bad of [...BAD, '', ' ', 'hf_a b', 'hf_é', `hf_${'x'.repeat(64)}`])
      expect(token.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it('every string of the wizard session and store-file inputs follows it (each kind’s inputs: providers/descriptors.test.ts)', () => {
    const cases: [{ safeParse(v: unknown): { success: boolean } }, Record<string, unknown>][] = [
      [SessionInput, { session_id: 'wiz_1' }],
    ];
    for (const [schema, valid] of cases) {
      expect(schema.safeParse(valid).success, JSON.stringify(valid)).toBe(true);
      for (const [field, value] of Object.entries(valid)) {
        if (typeof value !== 'string' || field === 'account_id') continue;
        for (const bad of BAD) {
          const broken = { ...valid, [field]: `${value.slice(0, 20)}${bad}${value.slice(20)}` };
          expect(schema.safeParse(broken).success, `${field} with ${JSON.stringify(bad)}`).toBe(false);
        }
      }
    }
    const record = {
      credential_key: 'huggingface:org:a',
      org_id: 'a',
      kind: 'huggingface',
      namespace: 'acme\u0000',
      status: 'healthy',
      connected_at: '2026-01-01T00:00:00Z',
      last_health_at: null,
      error: null,
      metadata: {},
      secret: 'gAAAAA',
    };
    expect(StoreFileRecord.safeParse(record).success).toBe(false);
    expect(StoreFileRecord.safeParse({ ...record, namespace: 'acme' }).success).toBe(true);
  });
});
