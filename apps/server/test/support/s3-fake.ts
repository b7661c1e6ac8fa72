import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredObject {
  body: string;
  headers: IncomingHttpHeaders;
}

export interface S3Fake {
  url: string;
  /** `bucket/key` → what PutObject stored, with the request's headers. */
  objects: Map<string, StoredObject>;
  close(): Promise<void>;
}

const xmlError = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`;

/**
 * A loopback S3 that takes path-style PutObject (upstreams.md §8a): `PUT /<bucket>/<key>`,
 * answers 200 with an ETag, `NoSuchBucket` (404) for a bucket it does not have and
 * `AccessDenied` (403) for a request that is not SigV4-signed by `accessKeyId`.
 */
export async function startS3Fake(opts: { buckets: string[]; accessKeyId: string }): Promise<S3Fake> {
  const objects = new Map<string, StoredObject>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const [, bucket = '', ...rest] = url.pathname.split('/');
      const key = rest.map(decodeURIComponent).join('/');
      const fail = (status: number, code: string, message: string) => {
        res.writeHead(status, { 'content-type': 'application/xml' }).end(xmlError(code, message));
      };
      if (!String(req.headers.authorization ?? '').includes(`Credential=${opts.accessKeyId}/`)) {
        return fail(403, 'AccessDenied', 'Access Denied');
      }
      if (!opts.buckets.includes(bucket)) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist');
      if (req.method !== 'PUT' || !key) return fail(405, 'MethodNotAllowed', 'Only PutObject here');
      objects.set(`${bucket}/${key}`, { body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(200, { etag: '"fake-etag"', 'x-amz-request-id': 'fake' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    objects,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
