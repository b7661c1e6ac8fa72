import { request } from 'node:http';
import { createAdminClient } from '@alphaswarm/api/client';
import { listAudit } from '@alphaswarm/db';
import { type DockerHubFake, startDockerHubFake } from '@alphaswarm/providers/fakes';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness } from './support/harness';

/*
 * The REST routes are answered by the tRPC procedures (createCaller): one authentication, one
 * audit, one error boundary for both surfaces.
 */

let h: Harness;
let hub: DockerHubFake;
beforeAll(async () => {
  hub = await startDockerHubFake();
  h = await startHarness({ upstreams: { dockerHubUrl: hub.url } });
});
afterAll(async () => {
  await h.close();
  await hub.close();
});

describe('REST through the procedures', () => {
  it('refuses a forged token before reading the body: a body that never ends still gets its 401', async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${h.url}/admin/accounts/org-slow/integrations/huggingface`, {
        method: 'POST',
        headers: { authorization: 'Bearer forged', 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (r) => {
        let body = '';
        r.on('data', (c) => {
          body += c;
        });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      // Never ended: were the body read first, no answer would come.
      req.write('{"token": "hf_');
    });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'invalid_token', message: expect.any(String) } });
    const [denied] = await listAudit(h.store.db, { orgId: 'org-slow' }, { limit: 5 });
    expect(denied).toMatchObject({ action: 'integrations.connect.huggingface', phase: 'denied', kind: 'huggingface' });
  });

  it('answers a bad connect input the same way over REST and tRPC, audited under the same typed action', async () => {
    const input = { username: 'demo', pat: 'dckr_pat_x', namespace: '..' };
    const rest = await call(h, 'POST', '/admin/accounts/org-same/integrations/dockerhub', { body: input });
    expect(rest.status).toBe(400);
    expect(rest.body.error.code).toBe('invalid_request');
    const client = createAdminClient({ url: h.url, token: () => h.token() });
    const trpc = await client.integrations.connect.dockerHub.mutate({ org_id: 'org-same', ...input }).catch((e) => e);
    expect(trpc).toBeInstanceOf(TRPCClientError);
    expect(trpc.data).toMatchObject({ app_code: 'invalid_request', field: 'namespace', httpStatus: 400 });
    expect(trpc.message).toBe(rest.body.error.message);
    const rows = await listAudit(h.store.db, { orgId: 'org-same' }, { limit: 10 });
    expect(rows.map((r) => [r.action, r.phase, r.outcome])).toEqual([
      ['integrations.connect.dockerHub', 'outcome', 'failure'],
      ['integrations.connect.dockerHub', 'attempt', 'started'],
      ['integrations.connect.dockerHub', 'outcome', 'failure'],
      ['integrations.connect.dockerHub', 'attempt', 'started'],
    ]);
    expect(hub.requests).toHaveLength(0);
  });
});
