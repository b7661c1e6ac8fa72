import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testStore } from '../test/stores';
import { generateKey, Keyring } from './crypto/fernet';
import type { Store } from './database';
import { getAdminUser, insertAdminUser, replaceAdminTotpSecret } from './repo/admin-users';
import { getLink, upsertLink } from './repo/integrations';
import { allSigningKeys, insertSigningKey } from './repo/signing-keys';
import {
  forgetSecrets,
  markUnreadableSecrets,
  rotateSecrets,
  SECRET_UNREADABLE_ERROR,
  UnreadableSecretsError,
  unreadableSecrets,
} from './rotation';
import { openSecret, sealSecret } from './secrets';

const NOW = new Date('2026-05-27T20:00:00Z');
const OLD = generateKey();
const NEW = generateKey();
const oldRing = Keyring.fromEnv(OLD);
const newOnly = Keyring.fromEnv(NEW);
const both = Keyring.fromEnv(`${NEW},${OLD}`);
const PAST = new Date('2020-01-01T00:00:00Z');

let store: Store;
beforeEach(async () => {
  store = await testStore();
});
afterEach(() => store.close());

async function seed(ring: Keyring, count = 3): Promise<void> {
  for (let i = 0; i < count; i++) {
    await upsertLink(
      store.db,
      {
        orgId: `org-${i}`,
        kind: 'huggingface',
        namespace: 'ns',
        status: 'healthy',
        error: null,
        metadata: {},
        secret: ring.encrypt(JSON.stringify({ token: `hf_${i}` }), { now: PAST }),
        expiresAt: null,
      },
      '2026-05-01T00:00:00Z',
    );
  }
  await upsertLink(
    store.db,
    {
      orgId: 'org-0',
      kind: 'cloud_aws',
      namespace: '1',
      status: 'healthy',
      error: null,
      metadata: {},
      secret: null,
      expiresAt: null,
    },
    '2026-05-01T00:00:00Z',
  );
  await insertSigningKey(store.db, {
    kid: 'k1',
    issuer: 'workload',
    alg: 'RS256',
    privateKey: ring.encrypt('{"d":"private"}', { now: PAST }),
    publicJwk: {},
    createdAt: '2026-05-01T00:00:00Z',
    retiredAt: null,
    publishUntil: null,
  });
  await insertAdminUser(
    store.db,
    {
      username: 'alice',
      passwordHash: 'x',
      totpSecret: ring.encrypt('JBSWY3DPEHPK3PXP', { now: PAST }),
      scopes: 'admin:cluster',
    },
    '2026-05-01T00:00:00Z',
  );
}

async function ciphertexts() {
  return {
    links: await store.exec(sql`SELECT credential_key, secret, updated_at FROM integrations ORDER BY 1`),
    keys: await store.exec(sql`SELECT kid, private_key FROM signing_keys`),
    users: await store.exec(sql`SELECT username, totp_secret FROM admin_users`),
  };
}

describe('rotateSecrets', () => {
  it('re-encrypts links, signing keys and TOTP secrets under the first key, timestamps kept', async () => {
    await seed(oldRing);
    const progress: [number, number][] = [];
    const result = await rotateSecrets(store.db, both, { now: NOW, onProgress: (d, t) => progress.push([d, t]) });
    expect(result).toEqual({ links: 3, signingKeys: 1, adminUsers: 1, total: 5 });
    expect(progress.at(-1)).toEqual([5, 5]);

    const link = await getLink(store.db, 'org-1', 'huggingface');
    expect(openSecret(newOnly, link!.secret!)).toEqual({ token: 'hf_1' });
    expect(newOnly.extractTimestamp(link!.secret!)).toBe(PAST.getTime() / 1000);
    expect(link!.updatedAt).toBe('2026-05-27T20:00:00Z');
    const [key] = await allSigningKeys(store.db);
    expect(newOnly.decrypt(key!.privateKey).toString()).toBe('{"d":"private"}');
    const user = (await getAdminUser(store.db, 'alice'))!;
    expect(newOnly.decrypt(user.totpSecret).toString()).toBe('JBSWY3DPEHPK3PXP');
    expect(newOnly.extractTimestamp(user.totpSecret)).toBe(PAST.getTime() / 1000);
  });

  it('changes nothing and names every secret no key reads', async () => {
    await seed(oldRing);
    const stranger = Keyring.fromEnv(generateKey());
    await upsertLink(
      store.db,
      {
        orgId: 'org-z',
        kind: 'docker_hub',
        namespace: 'z',
        status: 'healthy',
        error: null,
        metadata: {},
        secret: sealSecret(stranger, { username: 'u', pat: 'p' }),
        expiresAt: null,
      },
      '2026-05-01T00:00:00Z',
    );
    await replaceAdminTotpSecret(store.db, 'alice', stranger.encrypt('X'), '2026-05-01T00:00:00Z');
    const before = await ciphertexts();
    const error = await rotateSecrets(store.db, both, { now: NOW }).catch((e) => e);
    expect(error).toBeInstanceOf(UnreadableSecretsError);
    expect(error.items).toEqual(['docker_hub:org:org-z', 'admin_user:alice']);
    expect(error.message).toMatch(
      /2 stored secrets cannot be decrypted with any configured key \(docker_hub:org:org-z, admin_user:alice\); nothing was re-encrypted/,
    );
    expect(await ciphertexts()).toEqual(before);
  });

  it('refuses when the old key is missing from the list', async () => {
    await seed(oldRing, 2);
    const before = await ciphertexts();
    await expect(rotateSecrets(store.db, newOnly, { now: NOW })).rejects.toThrow(
      /4 stored secrets cannot be decrypted .*huggingface:org:org-0, huggingface:org:org-1, signing_key:k1, admin_user:alice/,
    );
    expect(await ciphertexts()).toEqual(before);
  });
});

describe('forgetSecrets', () => {
  it('drops every link secret and marks those links needs_reconnect', async () => {
    await seed(oldRing, 2);
    const result = await forgetSecrets(store.db, { now: NOW });
    expect(result).toEqual({
      count: 2,
      credentialKeys: expect.arrayContaining(['huggingface:org:org-0', 'huggingface:org:org-1']),
    });
    const link = await getLink(store.db, 'org-0', 'huggingface');
    expect(link).toMatchObject({ secret: null, status: 'needs_reconnect', error: { code: 'secret_unreadable' } });
    expect((await getLink(store.db, 'org-0', 'cloud_aws'))?.status).toBe('healthy');
  });
});

describe('unreadable secrets at start-up', () => {
  it('lists and marks links no configured key decrypts, once', async () => {
    await seed(oldRing, 3);
    const stranger = Keyring.fromEnv(generateKey());
    await upsertLink(
      store.db,
      {
        orgId: 'org-z',
        kind: 'huggingface',
        namespace: 'z',
        status: 'healthy',
        error: null,
        metadata: {},
        secret: sealSecret(stranger, { token: 't' }),
        expiresAt: null,
      },
      '2026-05-01T00:00:00Z',
    );
    expect(await unreadableSecrets(store.db, oldRing)).toEqual(['huggingface:org:org-z']);
    expect(await unreadableSecrets(store.db, both)).toEqual(['huggingface:org:org-z']);
    expect(await unreadableSecrets(store.db, newOnly)).toHaveLength(4);

    expect(await markUnreadableSecrets(store.db, oldRing, NOW)).toEqual(['huggingface:org:org-z']);
    const link = await getLink(store.db, 'org-z', 'huggingface');
    expect(link).toMatchObject({
      status: 'needs_reconnect',
      error: SECRET_UNREADABLE_ERROR,
      updatedAt: '2026-05-27T20:00:00Z',
    });
    expect(link!.secret).not.toBeNull(); // kept: restoring the key brings it back
    expect(link!.error!.message).toMatch(
      /cannot be decrypted with the configured key\(s\); reconnect it or restore the key/,
    );
    expect(await markUnreadableSecrets(store.db, oldRing, new Date('2026-06-01T00:00:00Z'))).toEqual([]);
    expect((await getLink(store.db, 'org-z', 'huggingface'))!.updatedAt).toBe('2026-05-27T20:00:00Z');
    expect((await getLink(store.db, 'org-1', 'huggingface'))!.status).toBe('healthy');
  });
});
