import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { AuditRecord } from '@alphaswarm/db';
import { batchSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './sinks';

/*
 * Loopback receivers that speak each sink's wire format, for tests and benches (never loaded by
 * the server): what they accept is what a SIEM would, and they have knobs to fail or hang.
 */

export interface Receiver {
  url: string;
  /** Records in the order they arrived. */
  received: AuditRecord[];
  /** Refuse the next `n` deliveries (HTTP 503; syslog: drop the connection). */
  failNext(n: number): void;
  /** Accept connections but never answer (HTTP) or never read (syslog) until `release`. */
  hang(on: boolean): void;
  /** Deliveries held unanswered (HTTP) or connections left unread (syslog) right now. */
  holding(): number;
  close(): Promise<void>;
}

interface Knobs {
  failing: number;
  hanging: boolean;
  held: (() => void)[];
}

function knobs(): Knobs {
  return { failing: 0, hanging: false, held: [] };
}

function control(k: Knobs) {
  return {
    failNext(n: number) {
      k.failing = n;
    },
    hang(on: boolean) {
      k.hanging = on;
      if (!on) for (const release of k.held.splice(0)) release();
    },
    holding: () => k.held.length,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(server: Server, secure: boolean, scheme: string, port = 0): Promise<string> {
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve(`${scheme}${secure ? 's' : ''}://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function httpReceiver(
  opts: { tls?: { key: string; cert: string }; port?: number },
  accept: (req: IncomingMessage, body: string) => AuditRecord[] | null,
): Promise<Receiver> {
  const k = knobs();
  const received: AuditRecord[] = [];
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    if (k.hanging) {
      k.held.push(() => res.destroy());
      return;
    }
    if (k.failing > 0) {
      k.failing--;
      res.writeHead(503).end();
      return;
    }
    const records = accept(req, body);
    if (records === null) {
      res.writeHead(401).end();
      return;
    }
    received.push(...records);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };
  const server = opts.tls ? createHttpsServer(opts.tls, handler) : createHttpServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return listen(server, Boolean(opts.tls), 'http', opts.port).then((url) => ({
    url,
    received,
    ...control(k),
    close: closer(server, sockets),
  }));
}

/** An HTTPS JSON-batch receiver checking the bearer token or the HMAC header. */
export function httpsReceiver(opts: {
  tls: { key: string; cert: string };
  bearer?: string;
  hmacKey?: string;
}): Promise<Receiver> {
  return httpReceiver(opts, (req, body) => {
    if (opts.bearer && req.headers.authorization !== `Bearer ${opts.bearer}`) return null;
    if (opts.hmacKey) {
      const ts = String(req.headers[TIMESTAMP_HEADER] ?? '');
      if (req.headers[SIGNATURE_HEADER] !== batchSignature(opts.hmacKey, ts, body)) return null;
    }
    return (JSON.parse(body) as { events: AuditRecord[] }).events;
  });
}

/**
 * An OTLP/HTTP logs receiver (JSON encoding); each log record's body is the audit record. `port`:
 * listen where a server was already told to send (a receiver that comes up after it).
 */
export function otlpReceiver(opts: { tls?: { key: string; cert: string }; port?: number } = {}): Promise<Receiver> {
  return httpReceiver(opts, (req, body) => {
    if (req.url !== '/v1/logs' || req.headers['content-type'] !== 'application/json') return null;
    const doc = JSON.parse(body) as {
      resourceLogs: { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[];
    };
    return doc.resourceLogs.flatMap((r) =>
      r.scopeLogs.flatMap((s) => s.logRecords.map((l) => JSON.parse(l.body.stringValue) as AuditRecord)),
    );
  });
}

/** RFC 5424 messages parsed back: header fields and the JSON MSG. */
export interface SyslogMessage {
  pri: number;
  version: string;
  timestamp: string;
  appName: string;
  msgid: string;
  structured: string;
  record: AuditRecord;
}

const RFC5424 = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?[^\\]\]|-) (.*)$/s;

export function parseSyslog(message: string): SyslogMessage {
  const m = RFC5424.exec(message);
  if (!m) throw new Error(`not an RFC 5424 message: ${message.slice(0, 80)}`);
  return {
    pri: Number(m[1]),
    version: m[2]!,
    timestamp: m[3]!,
    appName: m[5]!,
    msgid: m[7]!,
    structured: m[8]!,
    record: JSON.parse(m[9]!) as AuditRecord,
  };
}

/** A syslog collector over TCP or TLS reading octet-counted frames (RFC 6587). */
export async function syslogReceiver(
  opts: { tls?: { key: string; cert: string } } = {},
): Promise<Receiver & { messages: SyslogMessage[] }> {
  const k = knobs();
  const received: AuditRecord[] = [];
  const messages: SyslogMessage[] = [];
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (k.failing > 0) {
      k.failing--;
      socket.destroy();
      return;
    }
    if (k.hanging) {
      socket.pause();
      k.held.push(() => socket.resume());
    }
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) return;
        const length = Number(buffer.subarray(0, space).toString());
        if (buffer.length < space + 1 + length) return;
        const parsed = parseSyslog(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
        buffer = buffer.subarray(space + 1 + length);
        messages.push(parsed);
        received.push(parsed.record);
      }
    });
  };
  const server = opts.tls ? createTlsServer(opts.tls, onSocket) : createNetServer(onSocket);
  const address = await new Promise<AddressInfo>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)),
  );
  return {
    url: `${opts.tls ? 'tls' : 'tcp'}://127.0.0.1:${address.port}`,
    received,
    messages,
    ...control(k),
    close: closer(server, sockets),
  };
}
