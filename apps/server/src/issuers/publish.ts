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

export type PublishTarget = { kind: 'dir'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

/** `--out DIR` or `--to s3://bucket/prefix`: exactly one. */
export function publishTarget(opts: { out?: string | undefined; to?: string | undefined }): PublishTarget {
  if (opts.out && opts.to) throw new PublishError('Give either --out DIR or --to s3://bucket/prefix, not both.');
  if (opts.out) return { kind: 'dir', dir: opts.out };
  if (!opts.to) throw new PublishError('Say where to publish: --out DIR or --to s3://bucket/prefix.');
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(opts.to);
  if (!m) {
    throw new PublishError(
      `--to ${opts.to.slice(0, 200)} is not an s3://bucket/prefix URL (bucket names are 3-63 lowercase letters, digits, dots and hyphens).`,
    );
  }
  return { kind: 's3', bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

export interface S3Options {
  region: string;
  endpoint?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

/** Write or upload the files; returns where each one went. Throws PublishError with a reason. */
export async function publishFiles(target: PublishTarget, files: IssuerFile[], s3: S3Options): Promise<string[]> {
  if (target.kind === 'dir') {
    return files.map((f) => {
      const path = join(target.dir, f.path);
      mkdirSync(dirname(path), { recursive: true });
      // Whole files only: a host serving the directory never sees half a JWKS.
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, f.body, { mode: 0o644 });
      renameSync(tmp, path);
      return path;
    });
  }
  const client = new S3Client({
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
    ...(s3.credentials ? { credentials: s3.credentials } : {}),
  });
  const written: string[] = [];
  try {
    // The JWKS before the discovery document that points at it.
    for (const f of [...files].reverse()) {
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
  const where =
    target.kind === 's3'
      ? `Allow anonymous s3:GetObject on arn:aws:s3:::${target.bucket}/${target.prefix ? `${target.prefix}/` : ''}* (a bucket policy; with Block Public Access on, serve it through CloudFront instead)`
      : `Serve ${target.dir} as static files`;
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
