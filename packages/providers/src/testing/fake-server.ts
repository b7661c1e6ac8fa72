import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body?: string | object;
  /** Delay before answering, to play a slow upstream. */
  delayMs?: number;
}

export type FakeHandler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface RunningFake {
  url: string;
  server: Server;
  /** Every request seen, oldest first (tests assert on wire details). */
  requests: FakeRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP(S) server for an upstream fake: binds 127.0.0.1 on a free port,
 * records requests, and answers through one handler.
 */
export async function startFakeServer(
  handler: FakeHandler,
  tls?: { key: string; cert: string },
  port = 0,
): Promise<RunningFake> {
  const requests: FakeRequest[] = [];
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const fakeReq: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    requests.push(fakeReq);
    let reply: FakeReply;
    try {
      reply = await handler(fakeReq);
    } catch (error) {
      reply = { status: 500, body: { error: `fake crashed: ${(error as Error).message}` } };
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    const body =
      typeof reply.body === 'string' || reply.body === undefined ? (reply.body ?? '') : JSON.stringify(reply.body);
    const headers: Record<string, string> = { ...reply.headers };
    if (typeof reply.body === 'object' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    res.writeHead(reply.status, headers);
    res.end(body);
  };
  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, listener) : createHttpServer(listener);
  // Longer than undici's 1 s keep-alive threshold, so clients reuse connections as they would upstream.
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${bound}`,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function bearerToken(req: FakeRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^(?:Bearer|JWT)\s+(.+)$/i.exec(h) : null;
  return m?.[1];
}
