import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateKey, listAudit } from '@alphaswarm/db';
import { generate } from 'otplib';
import { Agent, setGlobalDispatcher } from 'undici';
import { createAdminUser } from '../../src/auth/idp';
import { SCRYPT_N_MIN } from '../../src/auth/idp/password';
import { parseEnv } from '../../src/env';
import { listen, type RunningServer } from '../../src/http-server';
import { createLogger } from '../../src/logger';
import { createRuntime, type Runtime } from '../../src/runtime';
import { bootstrap } from '../../src/runtime/bootstrap';
import { type DemoUpstreams, startDemoUpstreams } from '../../src/sandbox/upstreams';
import { testDatabase } from '../support/database';
import { startTestOidc, type TestOidc } from '../support/oidc';

/** Secrets that must never come back out: in a response, a log line or an audit row. */
export const CANARY = {
  password: 'canary-password-9f8e7d6c5b4a',
  hfToken: 'hf_canaryTokenABCDEFGHIJKLMNOPQRS',
  dockerPat: 'dckr_pat_canary_0123456789abcdef',
  cloudflareToken: 'cf_canary_token_0123456789abcdef',
} as const;

export const PUBLIC_URL = 'https://admin.alphaswarm.test';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export interface ProductionServer {
  rt: Runtime;
  url: string;
  up: DemoUpstreams;
  oidc: TestOidc;
  /** Every log line the server wrote. */
  logs: string[];
  /** Every reply seen by `request` and `raw`, for the suite-wide checks. */
  replies: { what: string; status: number; text: string; headers: string }[];
  /** A fresh-MFA admin access token from the external OIDC issuer. */
  admin(claims?: Record<string, unknown>): Promise<string>;
  /** An embedded-IdP admin (password + TOTP), one per test so lockouts stay apart. */
  enrol(username: string): Promise<{ username: string; secret: string; code(): Promise<string> }>;
  request(
    method: string,
    path: string,
    opts?: {
      token?: string | null;
      body?: string | Uint8Array;
      headers?: Record<string, string>;
      ip?: string;
      /** false: left out of the suite-wide checks (a failure provoked on purpose). */
      record?: boolean;
    },
  ): Promise<Reply>;
  /** A request over a bare socket (see rawRequest), recorded like the others. */
  raw(head: string, body?: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<RawReply>;
  auditRows(): Promise<number>;
  allText(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The server as `alphaswarm-admin serve` builds it — bootstrap (which refuses anything not
 * production-ready), createRuntime, listen — in production mode: an https public URL, a key,
 * an external OIDC issuer over https on loopback, and the embedded IdP explicitly on. Only the
 * upstream base URLs are swapped for loopback fakes (the runtime's injection point), so nothing
 * leaves the machine. 127.0.0.1 is a trusted proxy: each test speaks for its own client address.
 */
export async function startProductionServer(): Promise<ProductionServer> {
  const database = await testDatabase();
  const dir = database.dir;
  const up = await startDemoUpstreams({ workloadIssuer: `${PUBLIC_URL}/workload` });
  // The OIDC issuer's discovery and JWKS are fetched with the process's fetch; this worker (and
  // only it: vitest runs each file in its own process) trusts the throwaway loopback certificate.
  setGlobalDispatcher(new Agent({ connect: { ca: up.tls.cert } }));
  const oidc = await startTestOidc('alphaswarm-admin-api', up.tls);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const env = parseEnv({
    ALPHASWARM_ENV: 'production',
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: generateKey(),
    ALPHASWARM_ADMIN_AUDIT_KEY: generateKey(),
    ...database.env,
    ALPHASWARM_ADMIN_INTEGRATIONS_PATH: join(dir, 'integrations.json'),
    ALPHASWARM_ADMIN_PUBLIC_URL: PUBLIC_URL,
    ALPHASWARM_ADMIN_OIDC_ISSUER: oidc.issuer,
    ALPHASWARM_ADMIN_OIDC_AUDIENCE: oidc.audience,
    ALPHASWARM_ADMIN_EMBEDDED_IDP: 'on',
    ALPHASWARM_ADMIN_HEALTH_INTERVAL: '0',
    ALPHASWARM_ADMIN_TRUSTED_PROXIES: '127.0.0.1',
    HOME: dir,
  });
  const logger = createLogger('debug', sink);
  const boot = await bootstrap(env, logger);
  const rt = createRuntime({ ...boot, logger, upstreams: up.upstreams });
  const server: RunningServer = await listen(rt, { host: '127.0.0.1', port: 0 });
  const replies: ProductionServer['replies'] = [];

  const request: ProductionServer['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { 'x-forwarded-for': opts.ip ?? '198.51.100.1', ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
    const text = await res.text();
    if (opts.record !== false) {
      replies.push({
        what: `${method} ${path.slice(0, 120)}`,
        status: res.status,
        text,
        headers: JSON.stringify([...res.headers]),
      });
    }
    let body: any = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: res.status, headers: res.headers, text, body };
  };

  return {
    rt,
    url: server.url,
    up,
    oidc,
    logs,
    replies,
    admin: (claims = {}) => oidc.mint(claims),
    async enrol(username) {
      const enrolment = await createAdminUser(boot.store.db, boot.keyring, {
        username,
        password: CANARY.password,
        scopes: ['admin:cluster'],
        now: new Date(),
        // The cheapest cost a stored hash may have (as one hashed before the cost was raised): the
        // floods check the attempt limits, not the hash, and each sign-in of these users runs one.
        // Unknown users still cost a hash at the configured (production) cost.
        scryptN: SCRYPT_N_MIN,
      });
      return { username, secret: enrolment.secret, code: () => generate({ secret: enrolment.secret }) };
    },
    request,
    async raw(head, body) {
      const reply = await rawRequest(server.url, head, body);
      replies.push({
        what: head.split('\r\n')[0]?.slice(0, 120) ?? '',
        status: reply.status,
        text: reply.text,
        headers: JSON.stringify(reply.headers),
      });
      return reply;
    },
    auditRows: async () => (await listAudit(boot.store.db, {}, { limit: 1_000_000 })).length,
    async allText() {
      const audit = JSON.stringify(await listAudit(boot.store.db, {}, { limit: 1_000_000 }));
      return [audit, ...logs, ...replies.map((r) => `${r.text}\n${r.headers}`)].join('\n');
    },
    async close() {
      await server.close();
      await oidc.close();
      await rt.http.close();
      await up.close();
      await boot.store.close();
      await database.dispose();
    },
  };
}

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Body bytes the client had written when the answer came. */
  sent: number;
}

/**
 * One request over a bare socket, for what fetch cannot do: announce a body and not send it, send
 * an unbounded chunked body, send bytes that are not UTF-8 or a request target that is not a path.
 * The body is written with backpressure until the answer arrives.
 */
export function rawRequest(
  base: string,
  head: string,
  body: Iterable<Buffer> | AsyncIterable<Buffer> = [],
): Promise<RawReply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let sent = 0;
    let done = false;
    const timer = setTimeout(() => {
      socket.destroy();
      if (!done) reject(new Error(`no answer to ${head.split('\r\n')[0]}`));
    }, 15_000);
    const finish = (final: boolean) => {
      if (done) return;
      const reply = parseReply(received, final);
      if (!reply) {
        if (final) {
          done = true;
          clearTimeout(timer);
          reject(new Error(`connection closed without an answer to ${head.split('\r\n')[0]}`));
        }
        return;
      }
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...reply, sent });
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', async () => {
      socket.write(head);
      try {
        for await (const chunk of body) {
          if (done || socket.destroyed) break;
          sent += chunk.length;
          if (!socket.write(chunk)) {
            await new Promise<void>((ok) => {
              socket.once('drain', ok);
              socket.once('close', ok);
            });
          }
        }
      } catch {
        // The server closed the connection while we were still writing: the answer decides.
      }
    });
  });
}

function parseReply(data: Buffer, final: boolean): Omit<RawReply, 'sent'> | null {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(end + 4);
  let text: string;
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (rest.length < length) return null;
    text = rest.subarray(0, length).toString('utf8');
  } else if (headers['transfer-encoding'] === 'chunked') {
    const decoded = dechunk(rest);
    if (decoded === null) return null;
    text = decoded;
  } else {
    if (!final) return null;
    text = rest.toString('utf8');
  }
  return { status: Number(statusLine.split(' ')[1]), headers, text };
}

function dechunk(data: Buffer): string | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol === -1) return null;
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts).toString('utf8');
    if (data.length < eol + 2 + size + 2) return null;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** A chunked body of `total` bytes of `fill`, in 64 KiB chunks, framed for Transfer-Encoding: chunked. */
export function* chunkedBody(total: number, fill = 'a'): Generator<Buffer> {
  const piece = Buffer.alloc(64 * 1024, fill);
  for (let sent = 0; sent < total; sent += piece.length) {
    yield Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
  }
  yield Buffer.from('0\r\n\r\n');
}

/** A request head; `headers` in order, the Host header first. */
export function head(method: string, target: string, headers: Record<string, string | number> = {}): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'X-Forwarded-For: 198.51.100.2'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
