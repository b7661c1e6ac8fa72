import { appRouter } from '@alphaswarm/api';
import { ErrorBody, INTEGRATION_KINDS, kinds, OrgId, PAT_KINDS } from '@alphaswarm/contracts';
import { descriptors } from '@alphaswarm/providers/descriptors';
import { z } from 'zod';

/**
 * The OpenAPI 3.1 document of the REST compatibility surface (`GET /openapi.json`), for callers
 * in other languages. Every schema in it is generated from the zod schemas the procedures
 * themselves validate with (their parsers, read from the router), so it cannot drift from what
 * the routes accept and answer.
 */

interface ProcedureDef {
  inputs: unknown[];
  output?: unknown;
}

function procedure(path: string): ProcedureDef {
  const found = (appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef } | undefined>)[path];
  if (!found) throw new Error(`OpenAPI: no procedure ${path}`);
  return found._def;
}

const jsonSchema = (schema: unknown, io: 'input' | 'output') =>
  z.toJSONSchema(schema as z.ZodType, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;

/** A JSON Schema without its `$schema` line (OpenAPI 3.1 names the dialect once, for the document). */
function bare(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _, ...rest } = schema;
  return rest;
}

const outputOf = (path: string) => bare(jsonSchema(procedure(path).output, 'output'));

/** The request body of a route whose path names the org: the procedure's input without org_id. */
function bodyOf(path: string): Record<string, unknown> {
  const schema = bare(jsonSchema(procedure(path).inputs[0], 'input'));
  const { org_id: _, ...properties } = schema.properties as Record<string, unknown>;
  const required = (schema.required as string[] | undefined)?.filter((name) => name !== 'org_id');
  return { ...schema, properties, ...(required ? { required } : {}) };
}

const json = (schema: unknown) => ({ 'application/json': { schema } });
const ok = (description: string, schema: unknown) => ({ description, content: json(schema) });

const ERRORS = {
  '400': 'invalid_request: a path segment, the body or a field is invalid (the message names it)',
  '401': 'invalid_token, or insufficient_user_authentication (WWW-Authenticate carries the step-up challenge)',
  '403': 'insufficient_scope',
  '404': 'not_found: no such link (or one of another scope)',
  '405': 'method_not_allowed (Allow lists the methods)',
  '429': 'rate_limited (Retry-After)',
  '502': 'upstream_unavailable',
  '503': 'audit_unavailable or storage_unavailable: nothing changed',
  '504': 'upstream_timeout',
} as const;
const BODY_ERRORS = {
  '413': 'payload_too_large: the body is over 64 KiB',
  '415': 'unsupported_media_type: the body must be application/json',
  '422': 'credential_rejected or namespace_denied by the upstream',
} as const;

function errorResponses(codes: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(codes).map(([status, description]) => [
      status,
      { description, content: json({ $ref: '#/components/schemas/Error' }) },
    ]),
  );
}

const orgParam = { name: 'org_id', in: 'path', required: true, schema: bare(jsonSchema(OrgId, 'input')) };
const kindParam = {
  name: 'kind',
  in: 'path',
  required: true,
  description: 'An integration kind (some have an older spelling too).',
  schema: { type: 'string', enum: INTEGRATION_KINDS.flatMap((kind) => [kind, ...kinds[kind].restAliases]) },
};

let built: Record<string, unknown> | null = null;

/** The document, built once per process (its `servers` entry is this deployment's public URL). */
export function openApiDocument(publicUrl: string): Record<string, unknown> {
  built ??= buildDocument();
  return { ...built, servers: [{ url: publicUrl }] };
}

function buildDocument(): Record<string, unknown> {
  const security = [{ bearer: [] }];
  const paths: Record<string, Record<string, unknown>> = {
    '/admin/accounts/{org_id}/integrations': {
      parameters: [orgParam],
      get: {
        operationId: 'listIntegrations',
        summary: "An org's integrations",
        security,
        responses: { '200': ok('The links of the org', outputOf('integrations.list')), ...errorResponses(ERRORS) },
      },
    },
    '/admin/accounts/{org_id}/integrations/{kind}': {
      parameters: [orgParam, kindParam],
      get: {
        operationId: 'getIntegration',
        summary: 'One integration',
        security,
        responses: { '200': ok('The link', outputOf('integrations.get')), ...errorResponses(ERRORS) },
      },
      delete: {
        operationId: 'disconnectIntegration',
        summary: 'Disconnect (audited; needs a fresh MFA). The answer carries the revocation guidance.',
        security,
        responses: { '200': ok('Disconnected', outputOf('integrations.disconnect')), ...errorResponses(ERRORS) },
      },
    },
    '/admin/accounts/{org_id}/integrations/{kind}/health': {
      parameters: [orgParam, kindParam],
      post: {
        operationId: 'checkIntegrationHealth',
        summary: 'Re-check the link upstream now (audited; needs a fresh MFA)',
        security,
        responses: {
          '200': ok('The link with its new health', outputOf('integrations.checkHealth')),
          ...errorResponses(ERRORS),
        },
      },
    },
  };
  // One connect route per token kind, at the segment existing callers use, with that kind's body.
  for (const kind of PAT_KINDS) {
    const facts = kinds[kind];
    const segment = facts.restAliases[0] ?? kind;
    const path = `integrations.connect.${facts.connectProcedure}`;
    paths[`/admin/accounts/{org_id}/integrations/${segment}`] = {
      parameters: [orgParam],
      post: {
        operationId: `connect_${kind}`,
        summary: `Connect ${facts.label}: validated upstream, stored encrypted (audited; needs a fresh MFA)`,
        security,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: bodyOf(path), example: descriptors[kind].example } },
        },
        responses: {
          '200': ok('Connected', outputOf(path)),
          ...errorResponses({ ...ERRORS, ...BODY_ERRORS }),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'alphaswarm-admin REST compatibility surface',
      version: '1',
      description:
        'The documented wire format for existing callers; each route is answered by the tRPC procedure of the same ' +
        'name (one authentication, audit and error boundary). Mutations need an admin token with admin:cluster and a ' +
        'fresh MFA; reads admin:cluster or admin:read.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: bare(jsonSchema(ErrorBody, 'output')) },
    },
  };
}
