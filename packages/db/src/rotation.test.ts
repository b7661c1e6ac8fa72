import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testStore } from '../test/stores';
import { generateKey, Keyring } from './crypto/fernet';
import type { Store } from './database';
import { getAdminUser, insertAdminUser, replaceAdminTotpSecret } from './repo/admin-users';
import { getLink, upsertLink } from './repo/integrations';
import { allSigningKeys, insertSigningKey } from './repo/signing-keys';
import { createWizardSession, getWizardSession, updateWizardState, type WizardRow } from './repo/wizard';
import {
  forgetSecrets,
  markUnreadableSecrets,
  rotateSecrets,
  SECRET_UNREADABLE_ERROR,
  UnreadableSecretsError,
  unreadableSecrets,
} from './rotation';
import { openSecret, sealSecret } from './secrets';
import { linkWrite } from './testing/links';

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
      linkWrite({
        orgId: `org-${i}`,
        kind: 'huggingface',
        namespace: 'ns',
        secret: ring.encrypt(JSON.stringify({ token: `hf_${i}` }), { now: PAST }),
      }),
      '2026-05-01T00:00:00Z',
    );
  }
  await upsertLink(store.db, linkWrite({ orgId: 'org-0', kind: 'cloud_aws', namespace: '1' }), '2026-05-01T00:00:00Z');
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
    expect(result).toEqual({ links: 3, signingKeys: 1, adminUsers: 1, wizardSessions: 0, total: 5 });
    // Reported per page of 1000 and at the end: here, once.
    expect(progress).toEqual([[5, 5]]);

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
      linkWrite({
        orgId: 'org-z',
        kind: 'docker_hub',
        namespace: 'z',
        secret: sealSecret(stranger, { username: 'u', pat: 'p' }),
      }),
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

/** An onboarding session whose state holds `params` (a secret one is `{ sealed: <Fernet token> }`). */
async function session(params: Record<string, unknown> | null | undefined, expiresAt = '2026-05-28T00:00:00Z') {
  const row = await createWizardSession(
    store.db,
    { orgId: 'org-w', kind: 'cloudflare', createdBy: 'alice', expiresAt },
    '2026-05-27T19:00:00Z',
  );
  const state = params === undefined ? { step: 'start' } : { step: 'token', params };
  return (await updateWizardState(store.db, row, state, '2026-05-27T19:00:00Z'))!;
}
const reread = async (row: WizardRow) => getWizardSession(store.db, row.id);

describe('rotateSecrets and onboarding sessions', () => {
  it('re-seals the secret params of live sessions only, bumping their version, and deletes expired ones', async () => {
    const sealed = await session({ token: { sealed: oldRing.encrypt('cf-1', { now: PAST }) }, account: 'acc' });
    const plain = await session({ account: 'acc' });
    const bare = await session(undefined);
    const expired = await session({ token: { sealed: oldRing.encrypt('cf-2') } }, '2026-05-27T19:59:59Z');
    // Expiring this very second is still live.
    const lastSecond = await session({ token: { sealed: oldRing.encrypt('cf-3') } }, '2026-05-27T20:00:00Z');
    const progress: [number, number][] = [];
    const result = await rotateSecrets(store.db, both, { now: NOW, onProgress: (d, t) => progress.push([d, t]) });

    expect(result).toEqual({ links: 0, signingKeys: 0, adminUsers: 0, wizardSessions: 2, total: 2 });
    expect(progress).toEqual([[4, 4]]);
    expect(await reread(expired)).toBeUndefined();
    const after = (await reread(sealed))!;
    const token = (after.state.params as { token: { sealed: string } }).token.sealed;
    expect(newOnly.decrypt(token).toString()).toBe('cf-1');
    expect(newOnly.extractTimestamp(token)).toBe(PAST.getTime() / 1000);
    expect(after.state).toEqual({ step: 'token', params: { token: { sealed: token }, account: 'acc' } });
    expect(after.version).toBe(sealed.version + 1);
    expect(
      newOnly
        .decrypt(((await reread(lastSecond))!.state.params as { token: { sealed: string } }).token.sealed)
        .toString(),
    ).toBe('cf-3');
    // Nothing secret in them: not rewritten, so a wizard step in flight need not retry.
    expect(await reread(plain)).toEqual(plain);
    expect(await reread(bare)).toEqual(bare);
  });

  it('names a session whose sealed param no key reads, and changes no session', async () => {
    const stranger = Keyring.fromEnv(generateKey());
    const readable = await session({ token: { sealed: oldRing.encrypt('cf-1') } });
    const lost = await session({ a: { sealed: oldRing.encrypt('ok') }, b: { sealed: stranger.encrypt('cf-2') } });
    const error = await rotateSecrets(store.db, both, { now: NOW }).catch((e) => e);
    expect(error).toBeInstanceOf(UnreadableSecretsError);
    expect(error.items).toEqual([`wizard_session:${lost.id}`]);
    expect(await reread(readable)).toEqual(readable);
    expect(await reread(lost)).toEqual(lost);
  });
});

describe('rotateSecrets and odd onboarding state', () => {
  it('passes over params that are null or hold null, re-sealing only the sealed ones', async () => {
    const nullParams = await session(null);
    const mixed = await session({ note: null, zone: { name: 'eu' }, token: { sealed: oldRing.encrypt('cf-1') } });
    const result = await rotateSecrets(store.db, both, { now: NOW });
    expect(result.wizardSessions).toBe(1);
    expect(await reread(nullParams)).toEqual(nullParams);
    const params = (await reread(mixed))!.state.params as { note: null; token: { sealed: string } };
    expect(params.note).toBeNull();
    // Only `{ sealed: <string> }` is a secret: any other object param is left as it is.
    expect(params).toMatchObject({ zone: { name: 'eu' } });
    expect(newOnly.decrypt(params.token.sealed).toString()).toBe('cf-1');
  });
});

describe('UnreadableSecretsError', () => {
  it('counts in the right number and lists the first ten, then how many more', () => {
    const one = new UnreadableSecretsError(['a']);
    expect(one.name).toBe('UnreadableSecretsError');
    expect(one.message).toMatch(/^1 stored secret cannot be decrypted .* \(a\); /);
    // Both ways out: the old key back in the list, or forgetting the secrets.
    expect(one.message).toMatch(
      /Add the old key to ALPHASWARM_ADMIN_INTEGRATIONS_KEY .* or run forget-secrets if the old key is lost\.$/,
    );
    const many = Array.from({ length: 12 }, (_, i) => `k${i + 1}`);
    expect(new UnreadableSecretsError(many).message).toMatch(
      /^12 stored secrets cannot .* \(k1, k2, k3, k4, k5, k6, k7, k8, k9, k10 and 2 more\); /,
    );
    expect(new UnreadableSecretsError(many.slice(0, 10)).message).toContain(
      '(k1, k2, k3, k4, k5, k6, k7, k8, k9, k10);',
    );
  });
});

describe('forgetSecrets', () => {
  it('drops every link secret and marks those links needs_reconnect', async () => {
    await seed(oldRing, 2);
    const result = await forgetSecrets(store.db, { now: NOW });
    expect(result).toEqual({
      count: 2,
      credentialKeys: expect.arrayContaining(['huggingface:org:org-0', 'huggingface:org:org-1']),
      wizardSessions: 0,
    });
    const link = await getLink(store.db, 'org-0', 'huggingface');
    expect(link).toMatchObject({ secret: null, status: 'needs_reconnect', error: { code: 'secret_unreadable' } });
    expect((await getLink(store.db, 'org-0', 'cloud_aws'))?.status).toBe('healthy');
  });

  it('deletes the onboarding sessions that hold a secret, keeping the others', async () => {
    const holding = await session({ token: { sealed: oldRing.encrypt('cf-1') } });
    const plain = await session({ account: 'acc' });
    const bare = await session(undefined);
    expect(await forgetSecrets(store.db, { now: NOW })).toEqual({ count: 0, credentialKeys: [], wizardSessions: 1 });
    expect(await reread(holding)).toBeUndefined();
    expect(await reread(plain)).toEqual(plain);
    expect(await reread(bare)).toEqual(bare);
  });
});

describe('unreadable secrets at start-up', () => {
  it('lists and marks links no configured key decrypts, once', async () => {
    await seed(oldRing, 3);
    const stranger = Keyring.fromEnv(generateKey());
    await upsertLink(
      store.db,
      linkWrite({ orgId: 'org-z', kind: 'huggingface', namespace: 'z', secret: sealSecret(stranger, { token: 't' }) }),
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

  it('marks nothing when every secret is readable', async () => {
    await seed(oldRing, 2);
    expect(await unreadableSecrets(store.db, both)).toEqual([]);
    expect(await markUnreadableSecrets(store.db, both, NOW)).toEqual([]);
    expect((await getLink(store.db, 'org-0', 'huggingface'))!.status).toBe('healthy');
  });
});
