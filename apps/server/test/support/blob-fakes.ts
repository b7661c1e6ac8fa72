import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One stored object with the properties a reader would get back. */
export interface BlobObject {
  body: string;
  contentType: string | undefined;
  cacheControl: string | undefined;
}

export interface BlobFake {
  url: string;
  /** `bucket/name` (GCS) or `account/container/blob` (Azure) → what was stored. */
  objects: Map<string, BlobObject>;
  /** Each request's method, path and headers, to check the wire format. */
  requests: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse, fake: BlobFake) => void;

async function serve(handle: Handler): Promise<BlobFake> {
  const fake: BlobFake = { url: '', objects: new Map(), requests: [], close: async () => undefined };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fake.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
      handle(req, Buffer.concat(chunks), res, fake);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

/**
 * Cloud Storage's JSON API upload endpoint (upstreams.md): `POST /upload/storage/v1/b/<bucket>/o`
 * with `uploadType=media` (name in the query, type from Content-Type) or `uploadType=multipart`
 * (a `multipart/related` body: the object's metadata as JSON, then its bytes). 401 without the
 * bearer token, 404 for an unknown bucket, errors in Google's JSON shape.
 */
export function startGcsFake(opts: { buckets: string[]; token: string }): Promise<BlobFake> {
  return serve((req, body, res, fake) => {
    const fail = (code: number, message: string) =>
      res
        .writeHead(code, { 'content-type': 'application/json; charset=UTF-8' })
        .end(JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global' }] } }));
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (req.headers.authorization !== `Bearer ${opts.token}`) return fail(401, 'Invalid Credentials');
    if (req.method !== 'POST' || !m) return fail(404, 'Not Found');
    const bucket = decodeURIComponent(m[1]!);
    if (!opts.buckets.includes(bucket)) return fail(404, 'The specified bucket does not exist.');
    let meta: { name?: string; contentType?: string; cacheControl?: string } = {};
    let data = body.toString('utf8');
    const type = req.headers['content-type'] ?? '';
    if (url.searchParams.get('uploadType') === 'media') {
      meta = { name: url.searchParams.get('name') ?? undefined, contentType: type };
    } else if (url.searchParams.get('uploadType') === 'multipart') {
      const boundary = /^multipart\/related; boundary=(.+)$/.exec(type)?.[1];
      if (!boundary) return fail(400, 'Multipart upload needs a multipart/related body.');
      // --b CRLF headers CRLF CRLF metadata CRLF --b CRLF headers CRLF CRLF data CRLF --b--
      const parts = data.split(`--${boundary}`).slice(1, -1);
      const [metaPart, dataPart] = parts.map((p) => {
        const at = p.indexOf('\r\n\r\n');
        return { headers: p.slice(2, at), content: p.slice(at + 4, -2) };
      });
      if (!metaPart || !dataPart || !/application\/json/.test(metaPart.headers)) {
        return fail(400, 'Metadata part is missing or is not JSON.');
      }
      meta = JSON.parse(metaPart.content);
      meta.contentType ??= /Content-Type: (.+)/i.exec(dataPart.headers)?.[1];
      data = dataPart.content;
    } else {
      return fail(400, 'Unsupported uploadType.');
    }
    if (!meta.name) return fail(400, 'Required object name is missing.');
    fake.objects.set(`${bucket}/${meta.name}`, {
      body: data,
      contentType: meta.contentType,
      cacheControl: meta.cacheControl,
    });
    res
      .writeHead(200, { 'content-type': 'application/json; charset=UTF-8' })
      .end(JSON.stringify({ kind: 'storage#object', bucket, name: meta.name, size: String(Buffer.byteLength(data)) }));
  });
}

const azError = (code: string, message: string) =>
  `\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

/**
 * Azure Blob Storage's Put Blob, Azurite-style (`PUT /<account>/<container>/<blob>`): a
 * `BlockBlob` only, bearer tokens only from service version 2017-11-09 on; the blob keeps
 * `x-ms-blob-content-type` (else Content-Type) and `x-ms-blob-cache-control`. 201 when stored.
 */
export function startAzureBlobFake(opts: { account: string; containers: string[]; token: string }): Promise<BlobFake> {
  return serve((req, body, res, fake) => {
    const fail = (status: number, code: string, message: string) =>
      res.writeHead(status, { 'content-type': 'application/xml', 'x-ms-error-code': code }).end(azError(code, message));
    const [, account = '', container = '', ...rest] = new URL(req.url ?? '/', 'http://fake').pathname.split('/');
    const blob = rest.map(decodeURIComponent).join('/');
    if (req.headers.authorization !== `Bearer ${opts.token}`) {
      return fail(401, 'InvalidAuthenticationInfo', 'Server failed to authenticate the request.');
    }
    if (String(req.headers['x-ms-version'] ?? '') < '2017-11-09') {
      return fail(400, 'InvalidHeaderValue', 'Bearer tokens need x-ms-version 2017-11-09 or later.');
    }
    if (account !== opts.account || !opts.containers.includes(container)) {
      return fail(404, 'ContainerNotFound', 'The specified container does not exist.');
    }
    if (req.method !== 'PUT' || !blob) return fail(405, 'UnsupportedHttpVerb', 'Only Put Blob here.');
    if (req.headers['x-ms-blob-type'] !== 'BlockBlob') {
      return fail(400, 'MissingRequiredHeader', 'An HTTP header that is mandatory for this request is not specified.');
    }
    fake.objects.set(`${account}/${container}/${blob}`, {
      body: body.toString('utf8'),
      contentType: String(req.headers['x-ms-blob-content-type'] ?? req.headers['content-type'] ?? ''),
      cacheControl: req.headers['x-ms-blob-cache-control'] as string | undefined,
    });
    res.writeHead(201, { etag: '"0x8D0FAKE"', 'x-ms-request-server-encrypted': 'true' }).end();
  });
}
