import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { JWK } from 'jose';
import type { KeyedIssuer } from './keyed-issuer';

/** One file of the static issuer: its path under the issuer URL and how a host must serve it. */
export interface IssuerFile {
  path: string;
  body: string;
  contentType: 'application/json';
  cacheControl: string;
}

/**
 * Short enough that a rotation reaches the clouds well within the overlap a retired key stays
 * published (the longest workload token plus a minute).
 */
export const ISSUER_CACHE_CONTROL = 'public, max-age=60';

export const DISCOVERY_PATH = '.well-known/openid-configuration';
export const JWKS_PATH = 'jwks.json';

/**
 * The discovery document and JWKS a cloud fetches, laid out for any static host: `issuer` is the
 * URL the files are served under, `jwks_uri` is `<issuer>/jwks.json`.
 */
export function issuerFiles(issuer: KeyedIssuer, jwks: { keys: JWK[] }): IssuerFile[] {
  const discovery = issuer.discovery({
    jwks_uri: `${issuer.issuer}/${JWKS_PATH}`,
    claims_supported: ['sub', 'aud', 'iss', 'exp', 'iat', 'jti'],
  });
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return [
    {
      path: DISCOVERY_PATH,
      body: json(discovery),
      contentType: 'application/json',
      cacheControl: ISSUER_CACHE_CONTROL,
    },
    { path: JWKS_PATH, body: json(jwks), contentType: 'application/json', cacheControl: ISSUER_CACHE_CONTROL },
  ];
}

export type PublishTarget =
  | { kind: 'dir'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'gcs'; bucket: string; prefix: string }
  | { kind: 'azblob'; account: string; container: string; prefix: string };

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

const WHERE = '--out DIR, or --to s3://bucket/prefix, gs://bucket/prefix or azblob://account/container/prefix';
const trimSlashes = (p: string | undefined) => (p ?? '').replace(/^\/+|\/+$/g, '');
const BUCKET = '([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])';
const AZ_ACCOUNT = '([a-z0-9]{3,24})';
const AZ_CONTAINER = '([a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9])';

/**
 * `--out DIR` or `--to URL`, exactly one. Azure is spelled `azblob://account/container/prefix`;
 * the blob URL itself (`https://<account>.blob.core.windows.net/<container>/<prefix>`) is taken too.
 */
export function publishTarget(opts: { out?: string | undefined; to?: string | undefined }): PublishTarget {
  if (opts.out && opts.to) throw new PublishError(`Give one of ${WHERE}, not both.`);
  if (opts.out) return { kind: 'dir', dir: opts.out };
  if (!opts.to) throw new PublishError(`Say where to publish: ${WHERE}.`);
  const to = opts.to;
  const shown = to.slice(0, 200);
  if (to.startsWith('s3://') || to.startsWith('gs://')) {
    const m = new RegExp(`^(s3|gs)://${BUCKET}(?:/(.*))?$`).exec(to);
    if (!m || (m[1] === 's3' && m[2]!.includes('_'))) {
      throw new PublishError(
        `--to ${shown} is not a ${to.slice(0, 5)}bucket/prefix URL (bucket names are 3-63 lowercase letters, digits, dots and hyphens).`,
      );
    }
    return { kind: m[1] === 's3' ? 's3' : 'gcs', bucket: m[2]!, prefix: trimSlashes(m[3]) };
  }
  const az =
    new RegExp(`^azblob://${AZ_ACCOUNT}/${AZ_CONTAINER}(?:/(.*))?$`).exec(to) ??
    new RegExp(`^https://${AZ_ACCOUNT}\\.blob\\.core\\.windows\\.net/${AZ_CONTAINER}(?:/(.*))?$`).exec(to);
  if (az) return { kind: 'azblob', account: az[1]!, container: az[2]!, prefix: trimSlashes(az[3]) };
  if (to.startsWith('azblob://') || to.includes('.blob.core.windows.net')) {
    throw new PublishError(
      `--to ${shown} is not an azblob://account/container/prefix URL (the storage account is 3-24 lowercase letters and digits; the container 3-63 lowercase letters, digits and single hyphens).`,
    );
  }
  throw new PublishError(`--to ${shown} is not a place to publish: use ${WHERE}.`);
}

export interface S3Options {
  region: string;
  endpoint?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

/** A store reached over plain HTTPS with a bearer token (Google Cloud Storage, Azure Blob Storage). */
export interface BearerStore {
  /** GCS: the JSON API's root (https://storage.googleapis.com). Azure: the account's blob endpoint. */
  endpoint: string;
  /** An OAuth access token for the store, fetched when needed. */
  token: () => Promise<string>;
}

export interface PublishOptions {
  s3: S3Options;
  gcs?: BearerStore | undefined;
  /** `endpoint` unset: `https://<account>.blob.core.windows.net`. */
  azblob?: Partial<Pick<BearerStore, 'endpoint'>> & Pick<BearerStore, 'token'>;
  fetch?: typeof fetch;
}

/** Write or upload the files; returns where each one went. Throws PublishError with a reason. */
export async function publishFiles(
  target: PublishTarget,
  files: IssuerFile[],
  opts: PublishOptions,
): Promise<string[]> {
  // The JWKS before the discovery document that points at it.
  const ordered = [...files].reverse();
  const keyOf = (prefix: string, f: IssuerFile) => (prefix ? `${prefix}/${f.path}` : f.path);
  switch (target.kind) {
    case 'dir':
      return ordered.map((f) => {
        const path = join(target.dir, f.path);
        mkdirSync(dirname(path), { recursive: true });
        // Whole files only: a host serving the directory never sees half a JWKS.
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, f.body, { mode: 0o644 });
        renameSync(tmp, path);
        return path;
      });
    case 's3':
      return publishS3(target, ordered, opts.s3);
    case 'gcs': {
      if (!opts.gcs) throw new PublishError('Publishing to Google Cloud Storage needs Google credentials.');
      const store = opts.gcs;
      return uploadEach(
        ordered,
        async (f, http) => {
          const name = keyOf(target.prefix, f);
          // One multipart request carries the metadata with the bytes: a media upload cannot set
          // Cache-Control, and a second request would leave the object cached for an hour meanwhile.
          const boundary = `alphaswarm-${randomUUID()}`;
          const meta = JSON.stringify({ name, contentType: f.contentType, cacheControl: f.cacheControl });
          const body = [
            `--${boundary}`,
            'Content-Type: application/json; charset=UTF-8',
            '',
            meta,
            `--${boundary}`,
            `Content-Type: ${f.contentType}`,
            '',
            f.body,
            `--${boundary}--`,
            '',
          ].join('\r\n');
          const url = `${store.endpoint.replace(/\/+$/, '')}/upload/storage/v1/b/${encodeURIComponent(target.bucket)}/o?uploadType=multipart`;
          const res = await http(url, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${await store.token()}`,
              'content-type': `multipart/related; boundary=${boundary}`,
            },
            body,
          });
          if (!res.ok) throw refused('Google Cloud Storage', `gs://${target.bucket}/${name}`, res.status, GCS_HINT);
          return `gs://${target.bucket}/${name}`;
        },
        opts.fetch,
      );
    }
    case 'azblob': {
      if (!opts.azblob) throw new PublishError('Publishing to Azure Blob Storage needs Azure credentials.');
      const store = opts.azblob;
      const endpoint = (store.endpoint ?? `https://${target.account}.blob.core.windows.net`).replace(/\/+$/, '');
      return uploadEach(
        ordered,
        async (f, http) => {
          const name = keyOf(target.prefix, f);
          const path = [target.container, ...name.split('/')].map(encodeURIComponent).join('/');
          const res = await http(`${endpoint}/${path}`, {
            method: 'PUT',
            headers: {
              authorization: `Bearer ${await store.token()}`,
              // Bearer tokens need a service version of 2017-11-09 or later.
              'x-ms-version': AZURE_STORAGE_VERSION,
              'x-ms-blob-type': 'BlockBlob',
              'x-ms-blob-content-type': f.contentType,
              'x-ms-blob-cache-control': f.cacheControl,
              'content-type': f.contentType,
            },
            body: f.body,
          });
          if (res.status !== 201) {
            throw refused('Azure Blob Storage', `${endpoint}/${target.container}/${name}`, res.status, AZURE_HINT);
          }
          return `azblob://${target.account}/${target.container}/${name}`;
        },
        opts.fetch,
      );
    }
  }
}

export const AZURE_STORAGE_VERSION = '2023-11-03';
const GCS_HINT =
  'check the bucket name and that these credentials may create objects there (roles/storage.objectCreator, or objectAdmin to overwrite)';
const AZURE_HINT =
  'check the account and container names and that these credentials hold Storage Blob Data Contributor on the container';

function refused(store: string, where: string, status: number, hint: string): PublishError {
  return new PublishError(`${store} refused the upload to ${where} (HTTP ${status}): ${hint}.`);
}

async function uploadEach(
  files: IssuerFile[],
  put: (f: IssuerFile, http: typeof fetch) => Promise<string>,
  fetchImpl: typeof fetch = fetch,
): Promise<string[]> {
  const http: typeof fetch = async (url, init) => {
    try {
      return await fetchImpl(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      throw new PublishError(
        `Could not reach ${new URL(String(url)).host}: ${(error as Error).message?.slice(0, 200) ?? 'unknown error'}.`,
      );
    }
  };
  const written: string[] = [];
  for (const f of files) written.push(await put(f, http));
  return written;
}

async function publishS3(target: Extract<PublishTarget, { kind: 's3' }>, files: IssuerFile[], s3: S3Options) {
  const client = new S3Client({
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
    ...(s3.credentials ? { credentials: s3.credentials } : {}),
  });
  const written: string[] = [];
  try {
    for (const f of files) {
      const key = target.prefix ? `${target.prefix}/${f.path}` : f.path;
      await client.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: f.body,
          ContentType: f.contentType,
          CacheControl: f.cacheControl,
        }),
      );
      written.push(`s3://${target.bucket}/${key}`);
    }
  } catch (error) {
    if (error instanceof S3ServiceException) {
      throw new PublishError(
        `S3 refused the upload to s3://${target.bucket}/${target.prefix} (${error.name}${error.$metadata.httpStatusCode ? `, HTTP ${error.$metadata.httpStatusCode}` : ''}): check the bucket name, region and that these credentials may s3:PutObject there.`,
      );
    }
    throw new PublishError(
      `Could not reach S3 for s3://${target.bucket}: ${(error as Error).message?.slice(0, 200) ?? 'unknown error'}.`,
    );
  } finally {
    client.destroy();
  }
  return written;
}

/** What the operator must still do for clouds to read the files anonymously. */
export function publicReadGuidance(target: PublishTarget, issuerUrl: string): string {
  const where = (() => {
    switch (target.kind) {
      case 's3':
        return `Allow anonymous s3:GetObject on arn:aws:s3:::${target.bucket}/${target.prefix ? `${target.prefix}/` : ''}* (a bucket policy; with Block Public Access on, serve it through CloudFront instead)`;
      case 'gcs':
        return `Grant allUsers roles/storage.objectViewer on gs://${target.bucket} (gcloud storage buckets add-iam-policy-binding gs://${target.bucket} --member=allUsers --role=roles/storage.objectViewer; with public access prevention on, serve it through a load balancer instead); the files are at https://storage.googleapis.com/${target.bucket}/${target.prefix ? `${target.prefix}/` : ''}`;
      case 'azblob':
        return `Let anonymous clients read blobs in ${target.container} (az storage container set-permission --account-name ${target.account} --name ${target.container} --public-access blob, with the account's "Allow blob anonymous access" on; or serve it through Front Door); the files are at https://${target.account}.blob.core.windows.net/${target.container}/${target.prefix ? `${target.prefix}/` : ''}`;
      case 'dir':
        return `Serve ${target.dir} as static files`;
    }
  })();
  return `${where} so that ${issuerUrl}/${DISCOVERY_PATH} and ${issuerUrl}/${JWKS_PATH} answer over HTTPS without credentials, as application/json.`;
}

/**
 * Compare a published JWKS with the keys that should be published now. Returns the warnings:
 * a missing key (a rotation that was not published: clouds refuse its tokens) or a key that
 * should be gone (a retired key past its overlap).
 */
export async function publishedCopyWarnings(
  issuerUrl: string,
  expectedKids: string[],
  fetchImpl: typeof fetch = fetch,
): Promise<string[]> {
  const url = `${issuerUrl}/${JWKS_PATH}`;
  let kids: string[];
  try {
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
    if (!res.ok) return [`The published workload JWKS at ${url} answers HTTP ${res.status}: run publish-issuer.`];
    const body = (await res.json()) as { keys?: { kid?: unknown }[] };
    kids = (body.keys ?? []).map((k) => String(k.kid));
  } catch {
    return [`The published workload JWKS at ${url} could not be read: check the static host, then run publish-issuer.`];
  }
  const missing = expectedKids.filter((k) => !kids.includes(k));
  const extra = kids.filter((k) => !expectedKids.includes(k));
  const warnings: string[] = [];
  if (missing.length > 0) {
    warnings.push(
      `The published workload JWKS at ${url} is stale: it lacks key ${missing.join(', ')}, so clouds refuse tokens signed with it. Run publish-issuer.`,
    );
  }
  if (extra.length > 0) {
    warnings.push(
      `The published workload JWKS at ${url} still lists key ${extra.join(', ')}, retired past its overlap. Run publish-issuer to drop it.`,
    );
  }
  return warnings;
}
