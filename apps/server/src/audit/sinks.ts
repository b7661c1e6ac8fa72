import { createHmac } from 'node:crypto';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { AuditRecord } from '@alphaswarm/db';
import { Agent, request } from 'undici';

/*
 * Where audit records are streamed: an HTTPS endpoint taking JSON batches, a syslog collector
 * (RFC 5424 messages, octet-counted over TCP or TLS), an OpenTelemetry collector (OTLP/HTTP logs,
 * JSON encoding). A sink only sends; ordering, retries and leases are the delivery loop's.
 */

export interface Sink {
  /** Stable name: the outbox keys this sink's cursor by it. */
  readonly name: string;
  /** Resolves once the receiver has taken the whole batch (in order); rejects otherwise. */
  send(batch: readonly AuditRecord[], signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A sink that could not deliver; the message names the sink and never carries a credential. */
export class SinkError extends Error {
  override readonly name = 'SinkError';
}

export interface TlsOptions {
  /** Extra CAs (PEM) to trust for the receiver's certificate. */
  ca?: string;
}

export type HttpsAuth = { bearer: string } | { hmacKey: string };

export const SIGNATURE_HEADER = 'x-alphaswarm-signature';
export const TIMESTAMP_HEADER = 'x-alphaswarm-timestamp';

/**
 * The HMAC header a receiver checks: `sha256=<hex>` over `<timestamp>.<body>`, so a captured batch
 * cannot be replayed under another time.
 */
export function batchSignature(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

async function post(
  agent: Agent,
  what: string,
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      body,
      headers: { 'content-type': 'application/json', ...headers },
      signal,
    });
  } catch (error) {
    throw new SinkError(`${what}: ${signal.aborted ? 'timed out' : (error as Error).message}`);
  }
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new SinkError(`${what}: answered ${res.statusCode}`);
}

export function httpsSink(opts: { url: string; auth?: HttpsAuth; tls?: TlsOptions; now?: () => Date }): Sink {
  const agent = new Agent({ connect: opts.tls?.ca ? { ca: opts.tls.ca } : {} });
  const now = opts.now ?? (() => new Date());
  const what = `audit sink https (${new URL(opts.url).host})`;
  return {
    name: 'https',
    async send(batch, signal) {
      const body = JSON.stringify({ events: batch });
      const headers: Record<string, string> = {};
      if (opts.auth && 'bearer' in opts.auth) headers.authorization = `Bearer ${opts.auth.bearer}`;
      if (opts.auth && 'hmacKey' in opts.auth) {
        const timestamp = String(Math.floor(now().getTime() / 1000));
        headers[TIMESTAMP_HEADER] = timestamp;
        headers[SIGNATURE_HEADER] = batchSignature(opts.auth.hmacKey, timestamp, body);
      }
      await post(agent, what, opts.url, body, headers, signal);
    },
    close: () => agent.close(),
  };
}

/** Facility 13 (log audit); a failure or denial is a warning, the rest informational. */
function priority(record: AuditRecord): number {
  return 13 * 8 + (record.outcome === 'failure' || record.outcome === 'denied' ? 4 : 6);
}

function sdValue(text: string): string {
  return text.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** One RFC 5424 message: the record as JSON in MSG, its place in the chain as structured data. */
export function syslogMessage(record: AuditRecord, host = hostname()): string {
  const sd = `[alphaswarm@32473 seq="${record.seq}" link="${record.link}" action="${sdValue(record.action)}"]`;
  const msgid = record.action.replace(/[^\x21-\x7e]/g, '_').slice(0, 32);
  const h = host.replace(/[^\x21-\x7e]/g, '_').slice(0, 255) || '-';
  return `<${priority(record)}>1 ${record.at} ${h} alphaswarm-admin ${process.pid} ${msgid} ${sd} ${JSON.stringify(record)}`;
}

/** RFC 6587 octet counting: `<length> <message>`, the length in bytes. */
export function frameSyslog(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length} `), bytes]);
}

/**
 * Syslog over one long-lived connection (`tcp://host:port`, or `tls://host:port` per RFC 5425).
 * A batch counts as delivered once the socket has flushed it; a broken connection is dropped and
 * the batch is sent again on a fresh one (at least once).
 */
export function syslogSink(opts: { url: string; tls?: TlsOptions }): Sink {
  const url = new URL(opts.url);
  const secure = url.protocol === 'tls:';
  if (!secure && url.protocol !== 'tcp:')
    throw new SinkError('a syslog sink URL is tcp://host:port or tls://host:port');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (secure ? 6514 : 601));
  const what = `audit sink syslog (${url.host})`;
  let socket: Socket | null = null;

  const open = (signal: AbortSignal) =>
    new Promise<Socket>((resolve, reject) => {
      const s = secure
        ? tlsConnect({
            host,
            port,
            ...(isIP(host) ? {} : { servername: host }),
            ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
          })
        : netConnect({ host, port });
      const onAbort = () => {
        s.destroy();
        reject(new SinkError(`${what}: timed out connecting`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      s.once(secure ? 'secureConnect' : 'connect', () => {
        signal.removeEventListener('abort', onAbort);
        s.setNoDelay(true);
        resolve(s);
      });
      s.once('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(new SinkError(`${what}: ${error.message}`));
      });
    });

  return {
    name: 'syslog',
    async send(batch, signal) {
      if (!socket || socket.destroyed) {
        socket = await open(signal);
        const s = socket;
        s.on('error', () => s.destroy());
        s.on('close', () => {
          if (socket === s) socket = null;
        });
      }
      const s = socket;
      const frames = Buffer.concat(batch.map((r) => frameSyslog(syslogMessage(r))));
      await new Promise<void>((resolve, reject) => {
        const fail = (message: string) => {
          s.destroy();
          reject(new SinkError(`${what}: ${message}`));
        };
        const onAbort = () => fail('timed out writing');
        signal.addEventListener('abort', onAbort, { once: true });
        s.write(frames, (error) => {
          signal.removeEventListener('abort', onAbort);
          if (error) fail(error.message);
          else resolve();
        });
      });
    },
    async close() {
      socket?.end();
      socket = null;
    },
  };
}

function nanos(iso: string): string {
  return `${BigInt(Date.parse(iso)) * 1_000_000n}`;
}

function attr(key: string, value: string | number | null) {
  return value === null
    ? null
    : { key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } };
}

/** OTLP/HTTP logs, JSON encoding (`POST <endpoint>/v1/logs`): one log record per audit record. */
export function otlpLogsBody(batch: readonly AuditRecord[], observed: Date): unknown {
  return {
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', 'alphaswarm-admin')] },
        scopeLogs: [
          {
            scope: { name: 'alphaswarm-admin.audit' },
            logRecords: batch.map((r) => {
              const warn = r.outcome === 'failure' || r.outcome === 'denied';
              return {
                timeUnixNano: nanos(r.at),
                observedTimeUnixNano: `${BigInt(observed.getTime()) * 1_000_000n}`,
                severityNumber: warn ? 13 : 9,
                severityText: warn ? 'WARN' : 'INFO',
                eventName: r.action,
                body: { stringValue: JSON.stringify(r) },
                attributes: [
                  attr('audit.seq', r.seq),
                  attr('audit.link', r.link),
                  attr('audit.action', r.action),
                  attr('audit.outcome', r.outcome),
                  attr('audit.actor', r.actor),
                  attr('audit.org_id', r.org_id),
                ].filter((a) => a !== null),
              };
            }),
          },
        ],
      },
    ],
  };
}

export function otlpSink(opts: {
  url: string;
  headers?: Record<string, string>;
  tls?: TlsOptions;
  now?: () => Date;
}): Sink {
  const agent = new Agent({ connect: opts.tls?.ca ? { ca: opts.tls.ca } : {} });
  const endpoint = `${opts.url.replace(/\/+$/, '')}/v1/logs`;
  const now = opts.now ?? (() => new Date());
  const what = `audit sink otlp (${new URL(endpoint).host})`;
  return {
    name: 'otlp',
    send: (batch, signal) =>
      post(agent, what, endpoint, JSON.stringify(otlpLogsBody(batch, now())), opts.headers ?? {}, signal),
    close: () => agent.close(),
  };
}
