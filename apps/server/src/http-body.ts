import type { IncomingMessage } from 'node:http';
import { TextDecoder } from 'node:util';
import { AppError, MAX_IMPORT_CHARS } from '@alphaswarm/api';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Request body limits in bytes (the README's security section lists them). A body over its limit
 * gets 413 from its Content-Length before a byte is read, or is cut off where the count passes it.
 */
export const BODY_LIMITS = {
  /** Any tRPC request (a batch shares one body). */
  api: 1 * MiB,
  /** A tRPC request carrying `store.import`: the file as a JSON string, escaping at most doubling it. */
  storeImport: 2 * MAX_IMPORT_CHARS + 64 * KiB,
  /** The sign-in procedures, over /trpc or /auth/*. */
  auth: 16 * KiB,
  /** The REST compatibility routes. */
  rest: 64 * KiB,
} as const;

function readableSize(bytes: number): string {
  return bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${Math.round(bytes / KiB)} KiB`;
}

function tooLarge(limit: number): AppError {
  return new AppError('payload_too_large', `The request body is larger than ${readableSize(limit)} (${limit} bytes).`);
}

function notUtf8(): AppError {
  return new AppError('invalid_request', 'The request body is not valid UTF-8.');
}

/** Whether the request announces a body at all (a length above 0, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Only JSON is accepted (UTF-8, the JSON default); a request without a body may omit the type.
 * Throws 415 otherwise.
 */
export function assertJsonContentType(req: IncomingMessage): void {
  const header = req.headers['content-type'];
  if (header === undefined && !hasBody(req)) return;
  const [type = '', ...params] = (header ?? '').toLowerCase().split(';');
  const charset = params.map((p) => p.trim()).find((p) => p.startsWith('charset='));
  if (type.trim() === 'application/json' && (!charset || /^charset="?utf-8"?$/.test(charset))) return;
  throw new AppError(
    'unsupported_media_type',
    header === undefined
      ? 'The request has a body but no Content-Type; send it as application/json.'
      : `Content-Type ${JSON.stringify(header.slice(0, 80))} is not accepted; send the body as application/json (UTF-8).`,
  );
}

/** 413 from the declared Content-Length alone, so an oversized body is refused unread. */
export function assertDeclaredSize(req: IncomingMessage, limit: number): void {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > limit) throw tooLarge(limit);
}

/** Request bytes without destroying the socket on an early stop, so a 413 can still be answered. */
function chunksOf(req: IncomingMessage): AsyncIterator<Buffer> {
  return req.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
}

/**
 * Whether the connection can carry another request: a body left unread (an early 413, 401 or
 * 405) would otherwise be taken for the next request, so such a response closes it.
 */
export function bodyFullyRead(req: IncomingMessage): boolean {
  return !hasBody(req) || req.readableEnded;
}

/**
 * The body as a stream pulled on demand (nothing is read until a consumer asks), counted as it
 * arrives — cut off with 413 where the count passes `limit`, which covers chunked bodies — and
 * checked as strict UTF-8 (400).
 */
export function limitedBody(req: IncomingMessage, limit: number): ReadableStream<Uint8Array> {
  assertDeclaredSize(req, limit);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const chunks = chunksOf(req);
  let size = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch {
          controller.error(unreadable());
          return;
        }
        if (next.done) {
          if (!validTail(decoder)) controller.error(notUtf8());
          else controller.close();
          return;
        }
        size += next.value.length;
        if (size > limit) controller.error(tooLarge(limit));
        else if (!validChunk(decoder, next.value)) controller.error(notUtf8());
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      },
      async cancel() {
        await chunks.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

function validChunk(decoder: TextDecoder, chunk: Buffer): boolean {
  try {
    decoder.decode(chunk, { stream: true });
    return true;
  } catch {
    return false;
  }
}

function validTail(decoder: TextDecoder): boolean {
  try {
    decoder.decode();
    return true;
  } catch {
    return false;
  }
}

function unreadable(): AppError {
  return new AppError('invalid_request', 'The request body could not be read to its end.');
}

/** The whole body as text, within `limit` bytes and strict UTF-8. */
async function readTextBody(req: IncomingMessage, limit: number): Promise<string> {
  assertDeclaredSize(req, limit);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const chunks = chunksOf(req);
  let text = '';
  let size = 0;
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch {
      throw unreadable();
    }
    if (next.done) break;
    size += next.value.length;
    if (size > limit) throw tooLarge(limit);
    try {
      text += decoder.decode(next.value, { stream: true });
    } catch {
      throw notUtf8();
    }
  }
  try {
    return text + decoder.decode();
  } catch {
    throw notUtf8();
  }
}

/**
 * A JSON request body: Content-Type JSON (415), at most `maxBytes` (413), strict UTF-8 and valid
 * JSON (400). An empty body reads as `{}`.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  assertJsonContentType(req);
  const text = await readTextBody(req, maxBytes);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('invalid_request', 'The request body is not valid JSON.');
  }
}
