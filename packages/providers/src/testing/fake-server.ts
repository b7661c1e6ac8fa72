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
  /** Misbehave instead of answering (status, headers and body are then ignored). */
  fault?: UpstreamFault;
}

/**
 * How a broken upstream answers, for the fault suite: `hang` reads the request and never
 * answers; `trickle` sends a 200 and its headers at once, then one body byte per interval, for
 * ever (no idle timeout ever fires); `flood` sends a 200 whose JSON body runs to `bytes` bytes,
 * chunked, without a Content-Length. The fake adds to `sent` every body byte it wrote, so a test
 * can tell how much of a flood the client pulled before it hung up.
 */
export type UpstreamFault = (
  | { mode: 'hang' }
  | { mode: 'trickle'; intervalMs: number }
  | { mode: 'flood'; bytes: number }
) & {
  sent: number;
  /** `performance.now()` when the fault first met a request, null until then. */
  since: number | null;
};

export const faults = {
  hang: (): UpstreamFault => ({ mode: 'hang', sent: 0, since: null }),
  trickle: (intervalMs = 20): UpstreamFault => ({ mode: 'trickle', intervalMs, sent: 0, since: null }),
  flood: (bytes = 50 * 1024 * 1024): UpstreamFault => ({ mode: 'flood', bytes, sent: 0, since: null }),
};

/** The knobs every fake has: a slow upstream and a broken one, on every request. */
export interface SlowOrBrokenKnobs {
  /** Delay before every answer. */
  delayMs: number;
  /** Misbehave on every request instead of answering: hang, trickle or flood (the fault suite). */
  fault: UpstreamFault | null;
}

/** What those knobs, as set, make of a reply. */
export function slowOrBroken(knobs: SlowOrBrokenKnobs): Pick<FakeReply, 'delayMs' | 'fault'> {
  return { ...(knobs.delayMs > 0 ? { delayMs: knobs.delayMs } : {}), ...(knobs.fault ? { fault: knobs.fault } : {}) };
}

/** The routes a knob turns on: `true` every one, or those named. */
export type RouteKnob<R extends string = string> = boolean | R[];

export function selected<R extends string>(knob: RouteKnob<R>, route: R): boolean {
  return knob === true || (Array.isArray(knob) && knob.includes(route));
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
    if (reply.fault) return play(reply.fault, res);
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

const FLOOD_CHUNK = Buffer.alloc(64 * 1024, 'x');

async function play(fault: UpstreamFault, res: ServerResponse): Promise<void> {
  fault.since ??= performance.now();
  const closed = new Promise<void>((resolve) => res.once('close', resolve));
  if (fault.mode === 'hang') return closed;
  res.writeHead(200, { 'content-type': 'application/json' });
  if (fault.mode === 'trickle') {
    const timer = setInterval(() => {
      res.write(' ');
      fault.sent++;
    }, fault.intervalMs);
    await closed;
    clearInterval(timer);
    return;
  }
  const write = async (chunk: Buffer | string): Promise<boolean> => {
    if (res.destroyed) return false;
    fault.sent += chunk.length;
    // Respect backpressure: what a client refuses to read stays unsent.
    if (!res.write(chunk)) await Promise.race([new Promise((r) => res.once('drain', r)), closed]);
    return !res.destroyed;
  };
  const head = '{"padding":"';
  if (!(await write(head))) return;
  let left = fault.bytes - head.length - 2;
  while (left > 0) {
    const chunk = left >= FLOOD_CHUNK.length ? FLOOD_CHUNK : FLOOD_CHUNK.subarray(0, left);
    if (!(await write(chunk))) return;
    left -= chunk.length;
  }
  res.end('"}');
}

export function bearerToken(req: FakeRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^(?:Bearer|JWT)\s+(.+)$/i.exec(h) : null;
  return m?.[1];
}
