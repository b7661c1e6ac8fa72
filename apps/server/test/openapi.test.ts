import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoUpstreams, startDemoUpstreams } from '../src/sandbox/upstreams';
import { freePort, type Harness, startHarness } from './support/harness';

interface Operation {
  requestBody?: { content: { 'application/json': { schema: { properties?: Record<string, unknown> } } } };
  responses: Record<string, { content: { 'application/json': { schema: object } } }>;
}
type Doc = {
  paths: Record<string, Record<string, Operation | unknown>>;
  components: { schemas: Record<string, object> };
};

const METHODS = ['get', 'post', 'delete'] as const;
const ORG = 'org-openapi';

/**
 * GET /openapi.json: a valid OpenAPI 3.1 document (checked by a validator library), and every
 * route it documents answers as documented — the 200 of each operation and the error of a call
 * without a token, each body checked against the document's own schema.
 */
describe('the OpenAPI document of the REST surface', () => {
  let up: DemoUpstreams;
  let h: Harness;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

  beforeAll(async () => {
    const port = await freePort();
    up = await startDemoUpstreams({ workloadIssuer: `http://127.0.0.1:${port}/workload`, orgId: ORG });
    h = await startHarness({ port, upstreams: up.upstreams });
    const res = await fetch(`${h.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as Doc;
    ajv.addSchema({ ...doc.components.schemas.Error, $id: 'error' });
  });
  afterAll(async () => {
    await h?.close();
    await up?.close();
  });

  /** The body, checked against the documented schema of that status (the shared Error by $ref). */
  function expectDocumented(op: Operation, status: number, body: unknown, where: string): void {
    const documented = op.responses[String(status)];
    expect(documented, `${where}: status ${status} is not documented`).toBeDefined();
    const schema = documented?.content['application/json'].schema as { $ref?: string };
    const check = schema.$ref === '#/components/schemas/Error' ? ajv.getSchema('error') : ajv.compile(schema);
    expect(check?.(body), `${where}: ${JSON.stringify(check?.errors)}`).toBe(true);
  }

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    expect(doc).toMatchObject({ openapi: '3.1.0', servers: [{ url: h.url }] });
  });

  it('every documented route answers as documented', async () => {
    const routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] as Operation })),
    );
    // Connect first (links to read), disconnect last.
    const order = (r: (typeof routes)[number]) =>
      r.method === 'post' && r.op.requestBody ? 0 : r.method === 'delete' ? 2 : 1;
    routes.sort((a, b) => order(a) - order(b));
    expect(routes.length).toBeGreaterThanOrEqual(6);
    const token = await h.token();
    for (const { path, method, op } of routes) {
      const url = `${h.url}${path.replace('{org_id}', ORG).replace('{kind}', 'huggingface')}`;
      let body: string | undefined;
      if (op.requestBody) {
        // The demo account of the kind this route connects, limited to the fields the body documents.
        const kind = Object.keys(up.demo).find(
          (k) => path.endsWith(`/${k}`) || path.endsWith(`/${k.replace('_', '')}`),
        );
        const demo = up.demo[kind as keyof typeof up.demo] as Record<string, unknown>;
        const fields = Object.keys(op.requestBody.content['application/json'].schema.properties ?? {});
        body = JSON.stringify(Object.fromEntries(fields.filter((f) => f in demo).map((f) => [f, demo[f]])));
      }
      const headers = { 'content-type': 'application/json' };
      const where = `${method.toUpperCase()} ${path}`;

      const denied = await fetch(url, { method, headers, ...(body ? { body } : {}) });
      expect(denied.status, where).toBe(401);
      expectDocumented(op, 401, await denied.json(), where);

      const res = await fetch(url, { method, headers: { ...headers, authorization: `Bearer ${token}` }, body });
      const answer = await res.json();
      expect(res.status, `${where}: ${JSON.stringify(answer)}`).toBe(200);
      expectDocumented(op, 200, answer, where);
    }
  });
});
