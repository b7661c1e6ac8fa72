import { INTEGRATION_KINDS, kinds } from '@alphaswarm/contracts/kinds';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { descriptorFor, descriptors, secretSchemas } from './descriptors';
import { providerFor, registry } from './registry';

const BAD = ['\u0000', '\u0007', '\n', '\u001b', '\u007f', '\u0085', '\ud800', 'a\udc00b'];

describe('descriptors', () => {
  it.each(INTEGRATION_KINDS)('%s: its contracts facts plus its schemas, shared by its provider', async (kind) => {
    const descriptor = descriptors[kind];
    expect(registry[kind].descriptor).toBe(descriptor);
    const provider = await providerFor(kind);
    expect(provider.descriptor).toBe(descriptor);
    expect([provider.kind, provider.family]).toEqual([kind, descriptor.family]);
    const { secretSchema: _s, inputSchema: _i, issuedSchema: _c, example: _e, ...facts } = descriptor;
    expect(facts).toEqual(kinds[kind]);
  });

  it.each(INTEGRATION_KINDS)(
    '%s: secret-bearing exactly when it has a secret schema; its secret params are string inputs',
    (kind) => {
      const d = descriptorFor(kind);
      expect(d.secretBearing).toBe(d.secretSchema !== null);
      // The store file checks each imported secret against this map: every kind is in it.
      expect(secretSchemas[kind]).toBe(d.secretSchema);
      for (const param of d.secretParams) expect(d.inputSchema.shape[param]).toBeInstanceOf(z.ZodString);
      expect((d.issuedSchema.shape.kind as z.ZodLiteral).value).toBe(kind);
    },
  );

  it.each(INTEGRATION_KINDS)(
    '%s: every string its operator enters follows the one text rule (no control characters, lone surrogates)',
    (kind) => {
      const schema = descriptorFor(kind).inputSchema;
      const valid = descriptorFor(kind).example;
      expect(schema.safeParse(valid).success).toBe(true);
      for (const [field, value] of Object.entries(valid)) {
        if (typeof value !== 'string') continue;
        for (const bad of BAD) {
          const broken = { ...valid, [field]: `${value.slice(0, 20)}${bad}${value.slice(20)}` };
          const result = schema.safeParse(broken);
          expect(result.success, `${field} with ${JSON.stringify(bad)}`).toBe(false);
          expect(result.error?.issues[0]?.path[0]).toBe(field);
        }
      }
    },
  );

  it('refuses a secret param with whitespace where the operator enters it, naming the field', () => {
    for (const kind of INTEGRATION_KINDS) {
      const valid = descriptorFor(kind).example;
      for (const param of descriptorFor(kind).secretParams) {
        const result = descriptorFor(kind).inputSchema.safeParse({ ...valid, [param]: `${valid[param]} \n` });
        expect(result.error?.issues[0]?.path, `${kind}.${param}`).toEqual([param]);
      }
    }
  });

  it('refuses a Docker Hub namespace (or username standing in for it) that could not name an account', () => {
    const input = descriptors.docker_hub.inputSchema;
    expect(input.safeParse({ username: 'alice', pat: 'p', namespace: '..' }).error?.issues[0]?.path).toEqual([
      'namespace',
    ]);
    expect(input.safeParse({ username: '.alice', pat: 'p' }).error?.issues[0]?.path).toEqual(['username']);
    expect(input.safeParse({ username: 'alice@example.com', pat: 'p', namespace: 'alice' }).success).toBe(true);
  });
});
