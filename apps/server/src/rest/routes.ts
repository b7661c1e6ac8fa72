import type { IncomingMessage } from 'node:http';
import { AppError, createCaller, createContextInner, type RequestInfo } from '@alphaswarm/api';
import {
  INTEGRATION_KINDS,
  type IntegrationKind,
  isPatKind,
  kindOfRestSegment,
  kinds,
  OrgId,
} from '@alphaswarm/contracts';
import { assertDeclaredSize, assertJsonContentType, BODY_LIMITS, readJsonBody } from '../http-body';
import type { Runtime } from '../runtime';

export interface RestReply {
  status: number;
  body: unknown;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parsed = await readJsonBody(req, BODY_LIMITS.rest);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError('invalid_request', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** A percent-decoded path segment; malformed escapes (`%ZZ`, bytes that are not UTF-8) are the caller's error. */
function decodeSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AppError('invalid_request', `${name}: the path segment is not valid percent-encoded UTF-8.`);
  }
}

function parseOrg(raw: string): string {
  const org = OrgId.safeParse(decodeSegment(raw, 'org_id'));
  if (!org.success) throw new AppError('invalid_request', `org_id: ${org.error.issues[0]?.message ?? 'invalid'}`);
  return org.data;
}

/** Every name the routes accept for a kind, in the order the error message lists them. */
const SEGMENTS = INTEGRATION_KINDS.flatMap((kind) => [...kinds[kind].restAliases, kind]);

function parseKind(raw: string): IntegrationKind {
  const kind = kindOfRestSegment(decodeSegment(raw, 'kind'));
  if (!kind) {
    throw new AppError(
      'invalid_request',
      `Unknown integration kind "${raw.slice(0, 40)}"; expected one of ${SEGMENTS.join(', ')}.`,
    );
  }
  return kind;
}

/**
 * The input a procedure reads when it asks for it: the body is read (and its size counted, its
 * JSON parsed) only then, after the caller is authenticated, exactly as over /trpc.
 */
function whenAsked<T>(read: () => Promise<T>): T {
  let reading: Promise<T> | null = null;
  const input: PromiseLike<T> = {
    // biome-ignore lint/suspicious/noThenProperty: a deliberate thenable; createCaller awaits it when a procedure asks for its input.
    then: (resolve, reject) => {
      reading ??= read();
      return reading.then(resolve, reject);
    },
  };
  return input as unknown as T;
}

const ROUTE = /^\/admin\/accounts\/([^/]+)\/integrations(?:\/([^/]+))?(?:\/(health))?\/?$/;

/**
 * The REST compatibility surface for existing callers: the documented wire format, answered by
 * the tRPC procedures through `createCaller`, so authentication, audit and errors are theirs.
 * Returns null when the path is not ours.
 */
export async function handleRest(
  rt: Runtime,
  req: IncomingMessage,
  path: string,
  info: RequestInfo,
): Promise<RestReply | null> {
  const m = ROUTE.exec(path);
  if (!m) return null;
  const method = req.method ?? 'GET';
  const orgId = parseOrg(m[1] ?? '');
  const kind = m[2] ? parseKind(m[2]) : null;
  const health = m[3] === 'health';
  const allow = health ? ['POST'] : kind ? ['GET', ...(isPatKind(kind) ? ['POST'] : []), 'DELETE'] : ['GET'];
  if (!allow.includes(method)) {
    throw new AppError('method_not_allowed', `${method} is not accepted here; use ${allow.join(' or ')}.`, {
      headers: { allow: allow.join(', ') },
    });
  }
  const ok = (body: unknown): RestReply => ({ status: 200, body });
  const api = createCaller(createContextInner(rt, info));

  if (method === 'GET' && !health) {
    if (kind) return ok(await api.integrations.get({ org_id: orgId, kind }));
    return ok(await api.integrations.list({ org_id: orgId }));
  }

  if (method === 'POST' && kind && !health && isPatKind(kind)) {
    // What the headers alone can refuse is refused before any work: media type, then declared size.
    assertJsonContentType(req);
    assertDeclaredSize(req, BODY_LIMITS.rest);
    // A denied call is named from the path: its body is never read for it.
    const caller = createCaller(createContextInner(rt, { ...info, bodyBytes: null, pathInput: { org_id: orgId } }));
    const connect = caller.integrations.connect[kinds[kind].connectProcedure] as (
      input: Record<string, unknown>,
    ) => Promise<unknown>;
    return ok(await connect(whenAsked(async () => ({ ...(await readJson(req)), org_id: orgId }))));
  }

  if (method === 'DELETE' && kind && !health) return ok(await api.integrations.disconnect({ org_id: orgId, kind }));

  if (method === 'POST' && kind && health) return ok(await api.integrations.checkHealth({ org_id: orgId, kind }));

  throw new AppError('method_not_allowed', `${method} is not accepted here.`);
}
