import type { IncomingMessage } from 'node:http';
import {
  DockerHubConnectInput,
  HuggingFaceConnectInput,
  type IntegrationKind,
  OrgId,
  REST_KIND_ALIASES,
  renderCredentialKey,
} from '@alphaswarm/contracts';
import { AppError, formatZod } from '../errors';
import { assertDeclaredSize, assertJsonContentType, BODY_LIMITS, readJsonBody } from '../http-body';
import type { Runtime } from '../runtime';
import { audited } from '../services/audit';
import * as svc from '../services/integrations';
import { authenticate, type RequestInfo } from '../trpc';

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

function parseKind(raw: string): IntegrationKind {
  const name = decodeSegment(raw, 'kind');
  // Own keys only: "constructor" or "__proto__" in a path must not find Object.prototype's members.
  const kind = Object.hasOwn(REST_KIND_ALIASES, name) ? REST_KIND_ALIASES[name] : undefined;
  if (!kind) {
    throw new AppError(
      'invalid_request',
      `Unknown integration kind "${raw.slice(0, 40)}"; expected one of ${Object.keys(REST_KIND_ALIASES).join(', ')}.`,
    );
  }
  return kind;
}

const ROUTE = /^\/admin\/accounts\/([^/]+)\/integrations(?:\/([^/]+))?(?:\/(health))?\/?$/;

/**
 * The REST compatibility surface for existing callers: the documented wire format, backed by
 * the same services, authentication and audit as tRPC. Returns null when the path is not ours.
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
  const target = { orgId, kind, credentialKey: kind ? renderCredentialKey({ org_id: orgId, kind }) : null };
  const who = (actor: string) => ({ actor, clientIp: info.clientIp });

  if (method === 'GET' && !health) {
    await authenticate(rt, info, 'read', kind ? 'integrations.get' : 'integrations.list', async () => target);
    if (kind) return { status: 200, body: { integration: await svc.getIntegration(rt, orgId, kind) } };
    return { status: 200, body: { integrations: await svc.listIntegrations(rt, orgId) } };
  }

  if (method === 'POST' && kind && !health && isPatKind(kind)) {
    const action = kind === 'huggingface' ? 'integrations.connect.huggingface' : 'integrations.connect.dockerHub';
    // What the headers alone can refuse is refused before any work: media type, then declared size.
    assertJsonContentType(req);
    assertDeclaredSize(req, BODY_LIMITS.rest);
    const principal = await authenticate(rt, info, 'step_up', action, async () => target);
    const body = await readJson(req);
    return audited(rt, who(principal.actor), action, target, async (runId) => {
      const schema = kind === 'huggingface' ? HuggingFaceConnectInput : DockerHubConnectInput;
      const input = schema.safeParse(body);
      if (!input.success) throw new AppError('invalid_request', formatZod(input.error));
      const integration = await svc.connectPat(rt, kind, orgId, input.data);
      return { status: 200, body: { integration, audit_run_id: runId } };
    });
  }

  if (method === 'DELETE' && kind && !health) {
    const principal = await authenticate(rt, info, 'step_up', 'integrations.disconnect', async () => target);
    return audited(rt, who(principal.actor), 'integrations.disconnect', target, async (runId) => {
      const gone = await svc.disconnect(rt, orgId, kind);
      return { status: 200, body: { disconnected: true, org_id: orgId, kind, ...gone, audit_run_id: runId } };
    });
  }

  if (method === 'POST' && kind && health) {
    const principal = await authenticate(rt, info, 'step_up', 'integrations.checkHealth', async () => target);
    return audited(rt, who(principal.actor), 'integrations.checkHealth', target, async (runId) => ({
      status: 200,
      body: { integration: await svc.checkHealth(rt, orgId, kind), audit_run_id: runId },
    }));
  }

  throw new AppError('method_not_allowed', `${method} is not accepted here.`);
}

function isPatKind(kind: IntegrationKind): kind is 'huggingface' | 'docker_hub' {
  return kind === 'huggingface' || kind === 'docker_hub';
}
