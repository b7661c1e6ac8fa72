import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createAdminClient } from '@alphaswarm/api/client';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProductionCommand, publishIssuerCommand, rotateSigningKeyCommand } from '../src/cli/commands';
import { Cli } from '../src/cli/io';
import { issuerFiles, PublishError, publicReadGuidance, publishFiles, publishTarget } from '../src/issuers/publish';
import { type DemoUpstreams, startDemoUpstreams } from '../src/sandbox/upstreams';
import { startAzureBlobFake, startGcsFake } from './support/blob-fakes';
import { type Harness, startHarness } from './support/harness';
import { type S3Fake, startS3Fake } from './support/s3-fake';
import { type StaticServer, startStaticServer } from './support/static-server';

const ORG = 'org-static';

type RawEnv = Record<string, string | undefined>;

/** The commands' io: this environment and clock, stdout and stderr captured by line. */
function capture(opts: { env: RawEnv; now?: () => Date }): Cli & { lines: string[]; errors: string[] } {
  let out = '';
  let err = '';
  const split = (text: string) => text.split('\n').filter((l) => l !== '');
  const cli = new Cli({
    env: opts.env,
    stdin: Readable.from([]),
    stdout: { write: (c: string) => (out += c) },
    stderr: { write: (c: string) => (err += c) },
    ...(opts.now ? { now: opts.now } : {}),
  });
  return Object.defineProperties(cli, {
    lines: { get: () => split(out) },
    errors: { get: () => split(err) },
  }) as Cli & { lines: string[]; errors: string[] };
}

describe('publish-issuer: the workload issuer served from a static copy, the admin server out of reach', () => {
  let site: StaticServer;
  let siteDir: string;
  let up: DemoUpstreams;
  let h: Harness;
  let env: RawEnv;
  // Behind real time, so tokens minted after the 30 s key re-read below are never "not yet valid" to the fakes.
  let clock = Date.now() - 60_000;
  let admin: ReturnType<typeof createAdminClient>;

  beforeAll(async () => {
    siteDir = mkdtempSync(join(tmpdir(), 'issuer-site-'));
    site = await startStaticServer(siteDir);
    up = await startDemoUpstreams({ workloadIssuer: site.url, orgId: ORG });
    h = await startHarness({
      upstreams: up.upstreams,
      env: { ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL: site.url },
      now: () => new Date(clock),
    });
    env = {
      ALPHASWARM_ENV: 'test',
      ...h.database.env,
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: h.key,
      ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL: site.url,
      HOME: h.dir,
    };
    const at = () => Math.floor(clock / 1000);
    admin = createAdminClient({ url: h.url, token: () => h.oidc.mint({}, { now: at() }) });
  });
  afterAll(async () => {
    await h?.close();
    await up?.close();
    await site?.close();
    rmSync(siteDir, { recursive: true, force: true });
  });

  const identity = async (kind: 'cloud_aws' | 'cloud_gcp' | 'cloud_azure') => {
    const { session_id } = await admin.cloudOnboarding.start.mutate({ org_id: ORG, kind });
    return admin.cloudOnboarding.validateIdentity.mutate({ session_id, params: up.demo[kind] });
  };
  const publishedKids = () =>
    (JSON.parse(readFileSync(join(siteDir, 'jwks.json'), 'utf8')) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
  /** Verify as a cloud would, against the static copy only. */
  const verifiesAgainstCopy = async (token: string) => {
    const jwks = (await (await fetch(`${site.url}/jwks.json`)).json()) as { keys: [] };
    return jwtVerify(token, createLocalJWKSet(jwks), { issuer: site.url, currentDate: new Date(clock) }).then(
      () => true,
      () => false,
    );
  };

  it('AWS, GCP and Azure verify subject tokens from the static copy alone, never asking the admin server', async () => {
    // Nothing published yet: the clouds find no issuer, so trust fails, and Verify trust says why.
    await expect(identity('cloud_aws')).rejects.toMatchObject({ data: { app_code: 'trust_misconfigured' } });
    const { session_id } = await admin.cloudOnboarding.start.mutate({ org_id: ORG, kind: 'cloud_gcp' });
    const before = await admin.cloudOnboarding.verifyTrust.mutate({ session_id });
    expect(before.ok).toBe(false);
    expect(before.checks).toEqual([
      {
        check: 'discovery',
        ok: false,
        message: expect.stringMatching(/openid-configuration answered HTTP 404; publish the issuer there/),
      },
    ]);

    const io = capture({ env });
    await publishIssuerCommand(io, { out: siteDir });
    const discovery = JSON.parse(readFileSync(join(siteDir, '.well-known/openid-configuration'), 'utf8'));
    expect(discovery).toMatchObject({ issuer: site.url, jwks_uri: `${site.url}/jwks.json` });
    expect(publishedKids()).toHaveLength(1);
    expect(io.lines.join('\n')).toContain('answer over HTTPS without credentials');

    for (const kind of ['cloud_aws', 'cloud_gcp', 'cloud_azure'] as const) {
      expect((await identity(kind)).principal.length).toBeGreaterThan(0);
    }
    expect(site.requests).toEqual(expect.arrayContaining(['/.well-known/openid-configuration', '/jwks.json']));
    expect(h.logs.filter((l) => l.includes('"path":"/workload'))).toEqual([]);
    const after = await admin.cloudOnboarding.verifyTrust.mutate({ session_id });
    expect(after.checks.map((c) => [c.check, c.ok])).toEqual([
      ['discovery', true],
      ['issuer', true],
      ['keys', true],
      ['signature', true],
    ]);
    expect(after).toMatchObject({ ok: true, issuer: site.url });
  });

  it('rotation publishes the new key before it signs, keeps the old through the overlap, then only the new', async () => {
    const [oldKid] = publishedKids();
    const oldToken = await h.rt.workload.sign({ sub: `org:${ORG}:cloud_aws`, aud: 'sts.amazonaws.com' }, 300);

    // Without a place to publish, the rotation is refused (the new key would sign unpublished).
    await expect(rotateSigningKeyCommand(capture({ env }), { issuer: 'workload' })).rejects.toThrow(
      /pass --out DIR or --to s3/,
    );
    const io = capture({ env, now: () => new Date(clock) });
    await rotateSigningKeyCommand(io, { issuer: 'workload', out: siteDir });
    const kids = publishedKids();
    expect(kids).toHaveLength(2);
    const newKid = kids.find((k) => k !== oldKid)!;
    expect(io.lines.at(-1)).toContain(`now signs with key ${newKid}`);

    clock += 31_000; // the running server re-reads its active key
    const newToken = await h.rt.workload.sign({ sub: `org:${ORG}:cloud_aws`, aud: 'sts.amazonaws.com' }, 300);
    expect(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid).toBe(newKid);
    expect(await verifiesAgainstCopy(oldToken)).toBe(true);
    expect(await verifiesAgainstCopy(newToken)).toBe(true);
    for (const kind of ['cloud_aws', 'cloud_gcp', 'cloud_azure'] as const) {
      expect((await identity(kind)).principal.length).toBeGreaterThan(0);
    }

    // The copy as it is now is current: check-production has nothing to say about it.
    const fresh = capture({ env, now: () => new Date(clock) });
    await checkProductionCommand(fresh).catch(() => undefined);
    expect(fresh.lines.join('\n')).not.toContain('published workload JWKS');

    // Past the overlap, a re-publish drops the old key: its tokens no longer verify, the new ones do.
    const later = () => new Date(clock + 10 * 60_000);
    const stale = capture({ env, now: later });
    await checkProductionCommand(stale).catch(() => undefined);
    expect(stale.lines.join('\n')).toContain(`still lists key ${oldKid}`);
    await publishIssuerCommand(capture({ env, now: later }), { out: siteDir });
    expect(publishedKids()).toEqual([newKid]);
    expect(await verifiesAgainstCopy(oldToken)).toBe(false);
    expect(await verifiesAgainstCopy(newToken)).toBe(true);

    // A copy that lacks the signing key is stale: clouds would refuse every new token.
    writeFileSync(join(siteDir, 'jwks.json'), JSON.stringify({ keys: [] }));
    const missing = capture({ env, now: later });
    await checkProductionCommand(missing).catch(() => undefined);
    expect(missing.lines.join('\n')).toContain(
      `! warning: The published workload JWKS at ${site.url}/jwks.json is stale`,
    );
    await publishIssuerCommand(capture({ env, now: later }), { out: siteDir });
  });

  describe('--to s3://', () => {
    let s3: S3Fake;
    beforeAll(async () => {
      s3 = await startS3Fake({ buckets: ['issuer-bucket'], accessKeyId: 'AKIDPUBLISH' });
    });
    afterAll(async () => s3?.close());

    it('uploads both files through @aws-sdk/client-s3 with JSON content types and a short cache', async () => {
      const s3env: RawEnv = {
        ALPHASWARM_ENV: 'test',
        ...h.database.env,
        ALPHASWARM_ADMIN_INTEGRATIONS_KEY: h.key,
        ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL: 'https://issuer-bucket.s3.eu-west-1.amazonaws.com/alphaswarm/workload',
        AWS_ENDPOINT_URL_S3: s3.url,
        AWS_ACCESS_KEY_ID: 'AKIDPUBLISH',
        AWS_SECRET_ACCESS_KEY: 'publish-secret-canary',
        HOME: h.dir,
      };
      const io = capture({ env: s3env });
      await publishIssuerCommand(io, { to: 's3://issuer-bucket/alphaswarm/workload' });
      expect([...s3.objects.keys()].sort()).toEqual([
        'issuer-bucket/alphaswarm/workload/.well-known/openid-configuration',
        'issuer-bucket/alphaswarm/workload/jwks.json',
      ]);
      for (const o of s3.objects.values()) {
        expect(o.headers['content-type']).toBe('application/json');
        expect(o.headers['cache-control']).toBe('public, max-age=60');
        expect(o.headers['x-amz-content-sha256']).toBeTruthy();
      }
      const discovery = JSON.parse(
        s3.objects.get('issuer-bucket/alphaswarm/workload/.well-known/openid-configuration')!.body,
      );
      expect(discovery.jwks_uri).toBe('https://issuer-bucket.s3.eu-west-1.amazonaws.com/alphaswarm/workload/jwks.json');
      expect(
        JSON.parse(s3.objects.get('issuer-bucket/alphaswarm/workload/jwks.json')!.body).keys.length,
      ).toBeGreaterThan(0);
      expect(io.lines.join('\n')).toContain('s3:GetObject on arn:aws:s3:::issuer-bucket/alphaswarm/workload/*');

      const error = await publishIssuerCommand(capture({ env: s3env }), { to: 's3://no-such-bucket/x' }).catch(
        (e: Error) => e,
      );
      expect(String((error as Error).message)).toMatch(/NoSuchBucket, HTTP 404/);
      expect(String((error as Error).message)).not.toContain('publish-secret-canary');
      // A rotation whose publication fails changes nothing: the new key never signs.
      const keysBefore = (await h.rt.workload.jwks()).keys.map((k) => k.kid);
      await expect(
        rotateSigningKeyCommand(capture({ env: s3env }), { issuer: 'workload', to: 's3://no-such-bucket/x' }),
      ).rejects.toThrow(/NoSuchBucket/);
      expect((await h.rt.workload.jwks()).keys.map((k) => k.kid)).toEqual(keysBefore);
      await expect(publishIssuerCommand(capture({ env: s3env }), { to: 'ftp://x' })).rejects.toThrow(
        /ftp:\/\/x is not a place to publish: use --out DIR, or --to s3:\/\/bucket\/prefix, gs:\/\/bucket\/prefix or azblob:/,
      );
    });
  });

  it('--to gs:// and azblob:// upload over the JSON API and Put Blob, with JSON types and a short cache', async () => {
    const token = 'ya29.publish-token-canary';
    const [gcs, azure] = await Promise.all([
      startGcsFake({ buckets: ['issuer_bucket'], token }),
      startAzureBlobFake({ account: 'alphaswarmissuer', containers: ['issuer'], token }),
    ]);
    try {
      const files = issuerFiles(h.rt.workload, await h.rt.workload.jwks());
      const opts = {
        s3: { region: 'us-east-1' },
        gcs: { endpoint: gcs.url, token: async () => token },
        azblob: { endpoint: `${azure.url}/alphaswarmissuer`, token: async () => token },
      };
      const gsTarget = publishTarget({ to: 'gs://issuer_bucket/alphaswarm/workload/' });
      expect(await publishFiles(gsTarget, files, opts)).toEqual([
        'gs://issuer_bucket/alphaswarm/workload/jwks.json',
        'gs://issuer_bucket/alphaswarm/workload/.well-known/openid-configuration',
      ]);
      // Both spellings of the Azure place name the same container.
      const azTarget = publishTarget({
        to: 'https://alphaswarmissuer.blob.core.windows.net/issuer/alphaswarm/workload',
      });
      expect(azTarget).toEqual(publishTarget({ to: 'azblob://alphaswarmissuer/issuer/alphaswarm/workload' }));
      await publishFiles(azTarget, files, opts);

      for (const [fake, prefix] of [
        [gcs, 'issuer_bucket/alphaswarm/workload'],
        [azure, 'alphaswarmissuer/issuer/alphaswarm/workload'],
      ] as const) {
        expect([...fake.objects.keys()].sort()).toEqual([
          `${prefix}/.well-known/openid-configuration`,
          `${prefix}/jwks.json`,
        ]);
        for (const f of files) {
          expect(fake.objects.get(`${prefix}/${f.path}`)).toEqual({
            body: f.body,
            contentType: 'application/json',
            cacheControl: 'public, max-age=60',
          });
        }
      }
      expect(gcs.requests.map((r) => r.path)).toEqual(
        Array(2).fill('/upload/storage/v1/b/issuer_bucket/o?uploadType=multipart'),
      );
      expect(azure.requests.every((r) => r.headers['x-ms-blob-type'] === 'BlockBlob')).toBe(true);
      expect(publicReadGuidance(gsTarget, 'x')).toContain('allUsers roles/storage.objectViewer on gs://issuer_bucket');
      expect(publicReadGuidance(azTarget, 'x')).toContain('--public-access blob');

      // Refusals say where and what to check, and never carry the token.
      const refusals = await Promise.all([
        publishFiles(publishTarget({ to: 'gs://no-such-bucket/x' }), files, opts).catch((e: Error) => e.message),
        publishFiles(publishTarget({ to: 'azblob://alphaswarmissuer/nope/x' }), files, opts).catch(
          (e: Error) => e.message,
        ),
      ]);
      expect(refusals[0]).toMatch(
        /^Google Cloud Storage refused the upload to gs:\/\/no-such-bucket\/x\/jwks.json \(HTTP 404\)/,
      );
      expect(refusals[1]).toMatch(
        /^Azure Blob Storage refused the upload to .*\/nope\/x\/jwks.json \(HTTP 404\): .*Storage Blob Data Contributor/,
      );
      for (const r of refusals) expect(r).not.toContain(token);
      for (const bad of ['azblob://Bad_Account/c/x', 'gs://x', 'https://example.com/issuer']) {
        expect(() => publishTarget({ to: bad })).toThrow(PublishError);
      }
    } finally {
      await Promise.all([gcs.close(), azure.close()]);
    }
  });
});
