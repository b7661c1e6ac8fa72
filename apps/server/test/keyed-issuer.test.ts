import { generateKey, Keyring } from '@alphaswarm/db';
import { describe, expect, it } from 'vitest';
import { signingIssuer } from '../src/issuers/keyed-issuer';
import { testDatabase } from './support/database';

const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;

describe('signing keys sealed by a key we no longer have', () => {
  it('retires the unreadable key (still published) and signs with a fresh one, instead of failing every call', async () => {
    const database = await testDatabase();
    const store = await database.open();
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
      await store.close();
      await database.dispose();
    }
  });
});
