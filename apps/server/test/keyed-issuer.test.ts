import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, Keyring, openStore } from '@alphaswarm/db';
import { afterEach, describe, expect, it } from 'vitest';
import { signingIssuer } from '../src/issuers/keyed-issuer';

const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;

describe('signing keys sealed by a key we no longer have', () => {
  const dir = mkdtempSync(join(tmpdir(), 'issuer-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('retires the unreadable key (still published) and signs with a fresh one, instead of failing every call', async () => {
    const store = openStore(join(dir, 'admin.db'));
    try {
      const env = { publicUrl: 'http://127.0.0.1:8700', workloadIssuerUrl: 'http://127.0.0.1:8700/workload' };
      const before = signingIssuer('workload', env, store.db, Keyring.fromEnv(generateKey()), () => new Date());
      const oldKid = kidOf(await before.sign({ sub: 'org:a:cloud_aws', aud: 'x' }, 300));
      // A restart with another (e.g. ephemeral) encryption key.
      const after = signingIssuer('workload', env, store.db, Keyring.fromEnv(generateKey()), () => new Date());
      const newKid = kidOf(await after.sign({ sub: 'org:a:cloud_aws', aud: 'x' }, 300));
      expect(newKid).not.toBe(oldKid);
      const kids = (await after.jwks()).keys.map((k) => k.kid);
      expect(kids).toEqual([oldKid, newKid]);
    } finally {
      store.close();
    }
  });
});
