// Start-up as the server and the CLI run it: keyring loading, production checks, first-start import.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendAudit,
  countAudit,
  countLinks,
  deleteLink,
  generateKey,
  getLink,
  Keyring,
  listAudit,
  newRunId,
  StoreFileError,
  sealSecret,
  upsertLink,
} from '@alphaswarm/db';
import { linkWrite } from '@alphaswarm/db/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../src/env';
import { upstreamsFromEnv } from '../src/runtime';
import { type Bootstrapped, bootstrap, loadKeyring, productionProblems } from '../src/runtime/index';
import { type TestDatabase, testDatabase } from './support/database';

const KEY = generateKey();
const keyring = Keyring.fromEnv(KEY);

let dir: string;
let database: TestDatabase;
const opened: Bootstrapped[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-'));
  database = await testDatabase({ dir });
});
afterEach(async () => {
  for (const b of opened.splice(0)) await b.store.close();
  await database.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string | undefined> = {}) {
  return parseEnv({
    HOME: dir,
    ...database.env,
    ALPHASWARM_ADMIN_INTEGRATIONS_PATH: join(dir, 'integrations.json'),
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: KEY,
    ...extra,
  });
}

const PRODUCTION = {
  ALPHASWARM_ENV: 'production',
  ALPHASWARM_ADMIN_PUBLIC_URL: 'https://admin.example.com',
  ALPHASWARM_ADMIN_OIDC_ISSUER: 'https://login.example.com',
  ALPHASWARM_ADMIN_OIDC_AUDIENCE: 'alphaswarm-admin',
  ALPHASWARM_ADMIN_AUDIT_KEY: generateKey(),
};

function recordingLog() {
  const lines: { level: 'info' | 'warn'; obj: object; msg: string }[] = [];
  return {
    lines,
    info: (obj: object, msg: string) => lines.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj, msg }),
  };
}

async function boot(e = env(), log = recordingLog()): Promise<Bootstrapped> {
  const b = await bootstrap(e, log, { now: () => new Date('2026-05-27T20:00:00Z') });
  opened.push(b);
  return b;
}

function oldStore(records: Record<string, unknown>[]): void {
  writeFileSync(
    join(dir, 'integrations.json'),
    JSON.stringify({
      format: 'alphaswarm.integrations',
      version: 1,
      exported_at: '2026-05-01T00:00:00Z',
      integrations: records,
    }),
  );
}

const hfRecord = (org: string) => ({
  credential_key: `huggingface:org:${org}`,
  org_id: org,
  kind: 'huggingface',
  namespace: org,
  status: 'healthy',
  connected_at: '2026-05-01T00:00:00Z',
  last_health_at: null,
  last_health_status: null,
  error: null,
  metadata: { type: 'user' },
  secret: sealSecret(keyring, { token: `hf_${org}` }),
});

describe('loadKeyring', () => {
  it('uses the configured keys, first one encrypting', () => {
    const second = generateKey();
    const info = loadKeyring(env({ ALPHASWARM_ADMIN_INTEGRATIONS_KEY: `${KEY}, ${second}` }));
    expect(info).toMatchObject({ ephemeral: false, warning: null });
    expect(info.fingerprints).toEqual([keyring.fingerprints()[0], Keyring.fromEnv(second).fingerprints()[0]]);
    expect(keyring.decrypt(info.keyring.encrypt('x')).toString()).toBe('x');
  });

  it('mints an ephemeral key with a loud warning outside production', () => {
    const info = loadKeyring(env({ ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined }));
    expect(info.ephemeral).toBe(true);
    expect(info.warning).toMatch(
      /^WARNING: ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set, so an EPHEMERAL encryption key/,
    );
    expect(info.warning).toContain('alphaswarm-admin generate-key');
  });

  it('refuses production without a key, naming the variable and how to make one', () => {
    expect(() => loadKeyring(env({ ...PRODUCTION, ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined }))).toThrow(
      new ConfigError(
        'ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set: production refuses to start without the key that encrypts stored secrets; generate one with `alphaswarm-admin generate-key`, set it, and keep a copy.',
      ),
    );
  });

  it('names the variable and the bad entry, never its value', () => {
    const bad = 'not-a-key-at-all';
    let error: unknown;
    try {
      loadKeyring(env({ ALPHASWARM_ADMIN_INTEGRATIONS_KEY: `${KEY},${bad}` }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key 2 of 2 is not valid: a Fernet key is 32 bytes of url-safe base64/,
    );
    expect((error as Error).message).not.toContain(bad);
    expect((error as Error).message).not.toContain(KEY);
  });
});

describe('productionProblems', () => {
  it('is empty for a production configuration', () => {
    const e = env(PRODUCTION);
    expect(productionProblems(e, loadKeyring(e))).toEqual([]);
  });

  it('names each problem', () => {
    const e = env({
      ALPHASWARM_ENV: 'production',
      ALPHASWARM_ADMIN_PUBLIC_URL: 'http://admin.example.com',
      ALPHASWARM_ADMIN_OIDC_AUDIENCE: 'x',
      ALPHASWARM_ADMIN_DOCKERHUB_URL: 'https://localhost:9443',
    });
    expect(productionProblems(e, loadKeyring(e))).toEqual([
      expect.stringMatching(/^ALPHASWARM_ADMIN_PUBLIC_URL is http:\/\/admin\.example\.com: it must be https/),
      expect.stringMatching(/^ALPHASWARM_ADMIN_OIDC_ISSUER must be set: the embedded IdP is off/),
      expect.stringMatching(/^ALPHASWARM_ADMIN_DOCKERHUB_URL points at a loopback address/),
    ]);
    const ephemeral = env({
      ...PRODUCTION,
      ALPHASWARM_ENV: 'development',
      ALPHASWARM_ADMIN_EMBEDDED_IDP: 'on',
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined,
    });
    expect(productionProblems(ephemeral, loadKeyring(ephemeral))).toEqual([
      expect.stringMatching(/^ALPHASWARM_ENV is "development"/),
      expect.stringMatching(/^ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set/),
    ]);
  });

  it("refuses the AWS SDK's endpoint overrides when plain http or loopback, however the address is spelled", () => {
    const e = env({
      ...PRODUCTION,
      AWS_ENDPOINT_URL: 'http://aws-proxy.internal.example',
      AWS_ENDPOINT_URL_STS: 'https://127.0.0.1:4566',
      AWS_ENDPOINT_URL_IAM: 'https://[::ffff:127.0.0.1]:4566',
      AWS_ENDPOINT_URL_EC2: 'https://0.0.0.0:4566',
      ALPHASWARM_ADMIN_CLOUDFLARE_API_URL: 'https://[::1]:8443/client/v4',
    });
    expect(productionProblems(e, loadKeyring(e))).toEqual([
      'AWS_ENDPOINT_URL is http://aws-proxy.internal.example: upstream credentials must not travel over plain http.',
      expect.stringMatching(/^AWS_ENDPOINT_URL_STS points at a loopback address \(https:\/\/127\.0\.0\.1:4566\)/),
      expect.stringMatching(/^AWS_ENDPOINT_URL_IAM points at a loopback address/),
      expect.stringMatching(/^AWS_ENDPOINT_URL_EC2 points at a loopback address/),
      expect.stringMatching(/^ALPHASWARM_ADMIN_CLOUDFLARE_API_URL points at a loopback address/),
    ]);
    const real = env({ ...PRODUCTION, AWS_ENDPOINT_URL_STS: 'https://sts.eu-west-1.amazonaws.com' });
    expect(productionProblems(real, loadKeyring(real))).toEqual([]);
  });

  it('hands AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, to the AWS provider', () => {
    const e = env({ AWS_ENDPOINT_URL: 'https://aws.example.com/', AWS_ENDPOINT_URL_IAM: 'https://iam.example.com' });
    expect(upstreamsFromEnv(e).aws).toEqual({
      region: 'us-east-1',
      stsEndpoint: 'https://aws.example.com',
      iamEndpoint: 'https://iam.example.com',
      ec2Endpoint: 'https://aws.example.com',
    });
    expect(upstreamsFromEnv(env()).aws).toEqual({ region: 'us-east-1' });
  });
});

describe('bootstrap', () => {
  it('imports the old JSON store on first start, audited as system:first-start', async () => {
    oldStore([hfRecord('org-a'), hfRecord('org-b')]);
    const log = recordingLog();
    const b = await boot(env(), log);
    expect(b.firstStartImported).toBe(2);
    expect(b.ephemeralKey).toBe(false);
    expect(
      log.lines.find((l) => l.level === 'info' && /imported 2 link\(s\) from the old store/.test(l.msg)),
    ).toBeDefined();
    const link = await getLink(b.store.db, 'org-b', 'huggingface');
    expect(b.keyring.decrypt(link!.secret!).toString()).toBe('{"token":"hf_org-b"}');
    const audit = await listAudit(b.store.db, { action: 'store.import' }, { limit: 10 });
    expect(audit.map((a) => [a.actor, a.phase, a.outcome]).reverse()).toEqual([
      ['system:first-start', 'attempt', 'started'],
      ['system:first-start', 'outcome', 'success'],
    ]);
    expect(JSON.stringify(audit)).not.toContain('hf_org');
  });

  it('imports only once, even after every link is disconnected', async () => {
    oldStore([hfRecord('org-a')]);
    const first = await boot();
    await deleteLink(first.store.db, 'org-a', 'huggingface');
    await first.store.close();
    opened.length = 0;
    const second = await boot();
    expect(second.firstStartImported).toBeNull();
    expect(await getLink(second.store.db, 'org-a', 'huggingface')).toBeUndefined();
  });

  it('does not import into a database whose links were all disconnected', async () => {
    const first = await boot();
    await appendAudit(
      first.store.db,
      {
        runId: newRunId(),
        actor: 'admin',
        action: 'integrations.disconnect',
        phase: 'outcome',
        outcome: 'success',
        credentialKey: 'huggingface:org:org-a',
      },
      '2026-05-02T00:00:00Z',
    );
    await first.store.close();
    opened.length = 0;
    oldStore([hfRecord('org-a')]);
    const log = recordingLog();
    const second = await boot(env(), log);
    expect(second.firstStartImported).toBeNull();
    expect(await getLink(second.store.db, 'org-a', 'huggingface')).toBeUndefined();
    expect(log.lines.map((l) => l.msg)).toContain(
      `not importing the old store ${join(dir, 'integrations.json')}: this database has held links before`,
    );
  });

  it('does not import into a database that has links', async () => {
    const first = await boot();
    await upsertLink(
      first.store.db,
      linkWrite({ orgId: 'org-x', kind: 'cloud_aws', namespace: '1' }),
      '2026-05-01T00:00:00Z',
    );
    await first.store.close();
    opened.length = 0;
    oldStore([hfRecord('org-a')]);
    const second = await boot();
    expect(second.firstStartImported).toBeNull();
    expect(await getLink(second.store.db, 'org-a', 'huggingface')).toBeUndefined();
  });

  it('refuses to start on an old store it cannot import whole, changing nothing', async () => {
    oldStore([
      hfRecord('org-a'),
      { ...hfRecord('org-b'), secret: sealSecret(Keyring.fromEnv(generateKey()), { token: 'x' }) },
    ]);
    await expect(bootstrap(env(), recordingLog())).rejects.toThrow(StoreFileError);
    await expect(bootstrap(env(), recordingLog())).rejects.toThrow(
      /old store .*integrations\.json \(ALPHASWARM_ADMIN_INTEGRATIONS_PATH\) cannot be imported on first start, 2 problem\(s\): file: 1 secret cannot be decrypted/,
    );
    const store = await database.open();
    try {
      expect(await countLinks(store.db)).toBe(0);
      expect(await countAudit(store.db)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('warns about an ephemeral key outside production', async () => {
    const log = recordingLog();
    const b = await boot(env({ ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined }), log);
    expect(b.ephemeralKey).toBe(true);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      expect.stringMatching(/EPHEMERAL encryption key/),
      expect.stringMatching(
        /ALPHASWARM_ADMIN_AUDIT_KEY is not set, so the audit chain is keyed with a publicly known development key/,
      ),
    ]);
  });

  it('refuses production without a key, or with any production problem', async () => {
    await expect(
      bootstrap(env({ ...PRODUCTION, ALPHASWARM_ADMIN_INTEGRATIONS_KEY: undefined }), recordingLog()),
    ).rejects.toThrow(/ALPHASWARM_ADMIN_INTEGRATIONS_KEY is not set: production refuses to start/);
    await expect(
      bootstrap(env({ ...PRODUCTION, ALPHASWARM_ADMIN_PUBLIC_URL: 'http://admin.example.com' }), recordingLog()),
    ).rejects.toThrow(/^Not production-ready \(1 problem\): ALPHASWARM_ADMIN_PUBLIC_URL is http/);
    const b = await boot(env(PRODUCTION));
    expect(b.ephemeralKey).toBe(false);
  });

  it('marks links whose secret no configured key decrypts as needs_reconnect', async () => {
    const first = await boot();
    const lost = Keyring.fromEnv(generateKey());
    await upsertLink(
      first.store.db,
      linkWrite({ orgId: 'org-l', kind: 'huggingface', namespace: 'l', secret: sealSecret(lost, { token: 't' }) }),
      '2026-05-01T00:00:00Z',
    );
    await first.store.close();
    opened.length = 0;
    const log = recordingLog();
    const second = await boot(env(), log);
    expect(second.unreadable).toEqual(['huggingface:org:org-l']);
    expect(await getLink(second.store.db, 'org-l', 'huggingface')).toMatchObject({
      status: 'needs_reconnect',
      error: {
        code: 'secret_unreadable',
        message: expect.stringMatching(
          /cannot be decrypted with the configured key\(s\); reconnect it or restore the key/,
        ),
      },
    });
    expect(
      log.lines.some((l) => l.level === 'warn' && /1 link\(s\) have a secret no configured key decrypts/.test(l.msg)),
    ).toBe(true);
  });
});
