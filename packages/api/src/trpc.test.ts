import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createShare, createWizardSession, listAudit, openDatabase, revokeShares, type Store } from '@alphaswarm/db';
import { TRPCError } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testDeps } from '../test/deps';
import { BearerVerifier, localIssuer } from './auth/bearer';
import type { ApiDeps } from './deps';
import { AppError } from './errors';
import {
  adminProcedure,
  createCallerFactory,
  createContextInner,
  HANDOFF_PER_MINUTE,
  handoffProcedure,
  logCrash,
  publicProcedure,
  type RequestInfo,
  router,
  selfProcedure,
  serviceProcedure,
  stepUpProcedure,
} from './trpc';

/*
 * The base procedures (trpc.ts) on their own: a router of small handlers built from them, called
 * through createCaller (and once through tRPC's fetch handler, for the error shape on the wire),
 * over a real SQLite file and a real JWT verifier. No upstream is involved: what is specified here
 * is who may call, what the audit log says about each call, and how failures leave.
 */

const ISSUER = 'https://idp.test';
const AUDIENCE = 'alphaswarm-admin';
const NOW = new Date('2031-05-01T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const TOKEN = 'A'.repeat(43);

let sign: (claims: Record<string, unknown>) => Promise<string>;
let verifier: BearerVerifier;
beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const issuer = localIssuer({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: async () => ({ keys: [jwk] }),
    maxTokenLifetime: 900,
  });
  verifier = new BearerVerifier(
    [{ ...issuer, roles: { claim: 'groups', map: new Map([['platform-admins', ['admin:cluster']]]) } }],
    () => NOW,
  );
  sign = ({ sub = 'alice', ...claims }) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(String(sub))
      .setIssuedAt(NOW_S - 10)
      .setExpirationTime(NOW_S + 300)
      .sign(privateKey);
});

let dir: string;
let store: Store;
let deps: ApiDeps;
let logged: { obj: Record<string, unknown>; msg: string }[];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'api-trpc-'));
  store = await openDatabase({ dbPath: join(dir, 'admin.db') });
  logged = [];
  deps = testDeps({
    db: store.db,
    verifier,
    now: () => NOW,
    logger: {
      info: () => undefined,
      warn: () => undefined,
      error: (obj, msg) => logged.push({ obj: obj as Record<string, unknown>, msg }),
    },
  });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a handler saw of its caller. */
const seen = ({ ctx }: { ctx: { principal: unknown; access: unknown; binding: unknown; runId: string | null } }) => ({
  actor: (ctx.principal as { actor?: string } | null)?.actor ?? null,
  access: ctx.access,
  binding: ctx.binding,
  runId: ctx.runId,
});
/** A handler's own internal error, whose message is meant for the caller. */
const UNLOCK_FIRST = 'The key ring is locked: run `alphaswarm-admin keys unlock`, then retry.';
const Org = z.object({ org_id: z.string() }).partial();
const Link = z.object({ org_id: z.string(), kind: z.string() }).partial();

// Paths are audit actions, as every audited procedure's must be.
const testRouter = router({
  integrations: router({
    get: adminProcedure.input(Link).query(seen),
    list: adminProcedure.meta({ reach: 'filtered' }).input(Org).query(seen),
    attention: adminProcedure.meta({ reach: 'none' }).query(seen),
    disconnect: stepUpProcedure.input(Link).mutation(seen),
    rotate: stepUpProcedure.meta({ kind: 'huggingface' }).input(Org).mutation(seen),
    history: stepUpProcedure.mutation(() => {
      throw new RangeError('Invalid array length');
    }),
    timeline: stepUpProcedure.mutation(() => {
      throw new AppError('internal', UNLOCK_FIRST);
    }),
    checkHealth: stepUpProcedure.input(Link).mutation(() => {
      throw new AppError('credential_rejected', 'The upstream refused the token.', { upstream: 'huggingface' });
    }),
  }),
  credentials: router({ issue: serviceProcedure.input(Link).mutation(seen) }),
  sessions: router({ signOutEverywhere: selfProcedure.meta({ reach: 'none' }).mutation(seen) }),
  cloudOnboarding: router({
    get: stepUpProcedure.input(z.object({ session_id: z.string() }).partial()).mutation(seen),
    share: stepUpProcedure.input(z.object({ share_id: z.string() }).partial()).mutation(seen),
    // Any audit action serves as a path: a hand-off procedure whose handler fails on purpose.
    validateIdentity: handoffProcedure.mutation(() => {
      throw new AppError('internal', UNLOCK_FIRST);
    }),
  }),
  handoff: router({
    get: handoffProcedure
      .input(z.object({ token: z.string() }).passthrough())
      .query(({ ctx }) => ({ share: ctx.share.id, session: ctx.session.id, runId: ctx.runId })),
    submit: handoffProcedure.input(z.object({ token: z.string() })).mutation(() => {
      throw new AppError('precondition_failed', 'Run step 1 first.');
    }),
    verifyTrust: handoffProcedure.mutation(() => {
      throw new TypeError('Cannot read properties of undefined');
    }),
  }),
  system: router({
    info: publicProcedure.query(() => {
      throw new Error('connect ECONNREFUSED with hf_secret_canary_0001');
    }),
    whoami: publicProcedure.query(() => {
      throw new AppError('not_found', 'No such thing.', { field: 'org_id' });
    }),
  }),
  store: router({
    status: publicProcedure.query(() => {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'Not for you.' });
    }),
  }),
  // Not an audit action: a programming error the audit middleware refuses to run.
  unaudited: router({ thing: stepUpProcedure.mutation(() => 'ran') }),
});
const createCaller = createCallerFactory(testRouter);

function request(authorization: string | undefined, extra: Partial<RequestInfo> = {}): RequestInfo {
  return { requestId: 'req-1', clientIp: '192.0.2.9', authorization, ...extra };
}
async function call(claims: Record<string, unknown> | null, extra: Partial<RequestInfo> = {}) {
  const authorization = claims ? `Bearer ${await sign(claims)}` : undefined;
  return createCaller(createContextInner(deps, request(authorization, extra)));
}
const anonymous = (extra: Partial<RequestInfo> = {}) =>
  createCaller(createContextInner(deps, request(undefined, extra)));

/** A call through tRPC's fetch handler, as the host's HTTP server makes it (no socket needed). */
async function wire(path: string, opts: { body?: string; bodyBytes?: number; authorization?: string } = {}) {
  const res = await fetchRequestHandler({
    endpoint: '/trpc',
    req: new Request(`http://admin.test/trpc/${path}`, {
      ...(opts.body === undefined
        ? {}
        : { method: 'POST', body: opts.body, headers: { 'content-type': 'application/json' } }),
    }),
    router: testRouter,
    createContext: () =>
      createContextInner(
        deps,
        request(opts.authorization, opts.bodyBytes === undefined ? {} : { bodyBytes: opts.bodyBytes }),
      ),
  });
  return { status: res.status, body: (await res.json()) as { error: Record<string, unknown> } };
}

const fresh = { scope: 'admin:cluster', amr: ['pwd', 'otp'], auth_time: NOW_S - 5 };

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TRPCError);
    // What leaves a procedure is always the typed error, as the cause of tRPC's.
    expect((error as TRPCError).cause).toBeInstanceOf(AppError);
    return (error as TRPCError).cause as AppError;
  }
  throw new Error('expected the call to fail');
}
const rows = async () => (await listAudit(store.db, {}, { limit: 50 })).reverse();

async function session(orgId = 'org-s', kind = 'cloud_aws') {
  return createWizardSession(
    store.db,
    { orgId, kind, createdBy: 'alice', expiresAt: '2031-05-02T00:00:00.000Z' },
    '2031-05-01T11:00:00.000Z',
  );
}

describe('who may call', () => {
  it('a call without a well-formed bearer token is refused with the challenge, and audited as anonymous', async () => {
    const jwt = await sign(fresh);
    for (const authorization of [
      undefined,
      '',
      'Basic abc',
      `Bearer${jwt}`,
      `Bearer ${jwt} x`,
      `xBearer ${jwt}`,
      'Bearer ',
    ]) {
      const error = await failure(
        createCaller(createContextInner(deps, request(authorization))).integrations.get({ org_id: 'org-a' }),
      );
      expect(error.code).toBe('invalid_token');
      expect(error.message).toBe('A bearer token is required.');
      expect(error.extra.headers).toEqual({
        'www-authenticate': 'Bearer error="invalid_token", error_description="A bearer token is required"',
      });
    }
    // The scheme is case-insensitive and any run of blanks separates it from the token.
    for (const authorization of [`bearer ${jwt}`, `BEARER \t ${jwt}`]) {
      const ok = await createCaller(createContextInner(deps, request(authorization))).integrations.get({});
      expect(ok.actor).toBe('alice');
    }
    const denied = (await rows()).filter((r) => r.phase === 'denied');
    expect(denied).toHaveLength(7);
    expect(denied[0]).toMatchObject({
      actor: 'anonymous',
      clientIp: '192.0.2.9',
      action: 'integrations.get',
      outcome: 'denied',
      orgId: 'org-a',
      detail: { code: 'invalid_token', status: 401 },
    });
  });

  it('a denial after the token was read names the caller; reads pass without MFA, mutations need it fresh', async () => {
    const reader = { scope: 'admin:read', sub: 'rita' };
    expect((await (await call(reader)).integrations.get({ org_id: 'org-a' })).access).toEqual({
      role: 'admin:read',
      via: 'token scope',
      orgs: null,
    });
    const error = await failure((await call(reader)).integrations.disconnect({ org_id: 'org-a', kind: 'huggingface' }));
    expect(error.code).toBe('insufficient_scope');
    const stale = await failure(
      (await call({ ...fresh, auth_time: NOW_S - 601 })).integrations.disconnect({
        org_id: 'org-a',
        kind: 'huggingface',
      }),
    );
    expect(stale.code).toBe('insufficient_user_authentication');
    expect(stale.extra.headers?.['www-authenticate']).toMatch(/max_age=600$/);
    const [rita, alice] = (await rows()).filter((r) => r.phase === 'denied');
    expect(rita).toMatchObject({ actor: 'rita', orgId: 'org-a', kind: 'huggingface', detail: { status: 403 } });
    expect(alice).toMatchObject({ actor: 'alice', detail: { code: 'insufficient_user_authentication' } });
    // Exactly 600 s old is still fresh: the limit is the configured max age, nothing else.
    const ok = await (await call({ ...fresh, auth_time: NOW_S - 600 })).integrations.disconnect({ org_id: 'org-a' });
    expect(ok.access).toMatchObject({ role: 'admin:cluster' });
  });

  it('a mutation honours the configured acr levels', async () => {
    deps.config.stepUpAcr = ['phr'];
    const error = await failure((await call(fresh)).integrations.disconnect({ org_id: 'org-a' }));
    expect(error.code).toBe('insufficient_user_authentication');
    expect(error.extra.headers?.['www-authenticate']).toContain('acr_values="phr"');
    expect((await (await call({ ...fresh, acr: 'phr' })).integrations.disconnect({ org_id: 'org-a' })).actor).toBe(
      'alice',
    );
  });

  it('an org admin reaches the org its input names, other orgs do not exist for it, lists and self calls need none', async () => {
    const orgAdmin = { scope: 'admin:org:org-a', amr: ['otp'], auth_time: NOW_S };
    const api = await call(orgAdmin);
    expect((await api.integrations.disconnect({ org_id: 'org-a' })).access).toEqual({
      role: 'admin:org:org-a',
      via: 'token scope',
      orgs: ['org-a'],
    });
    expect((await failure(api.integrations.disconnect({ org_id: 'org-b' }))).code).toBe('not_found');
    expect((await failure(api.integrations.get({}))).code).toBe('insufficient_scope');
    // The org may also come from the path of a REST route, outside the body.
    const viaPath = await (await call(orgAdmin, { pathInput: { org_id: 'org-a' } })).integrations.get({});
    expect(viaPath.access).toMatchObject({ orgs: ['org-a'] });
    expect((await api.integrations.list({ org_id: 'org-b' })).access).toMatchObject({ orgs: ['org-a'] });
    expect((await api.integrations.attention()).access).toMatchObject({ role: 'admin:org:org-a' });
    expect((await api.sessions.signOutEverywhere()).access).toMatchObject({ orgs: ['org-a'] });
    // A cluster admin's call does not depend on its input naming an org.
    expect((await (await call(fresh)).integrations.disconnect({})).access).toMatchObject({ orgs: null });
  });

  it('a service acts for the org its input names: with its org scope, or the platform scope while it is honoured', async () => {
    const bound = await (await call({ scope: 'integrations:use:org:org-a' })).credentials.issue({ org_id: 'org-a' });
    expect(bound).toMatchObject({ binding: 'org', access: null });
    const platform = await (await call({ scope: 'integrations:use' })).credentials.issue({ org_id: 'org-b' });
    expect(platform.binding).toBe('platform');
    expect((await failure((await call(fresh)).credentials.issue({ org_id: 'org-a' }))).code).toBe('insufficient_scope');
    deps.config.platformServiceScope = false;
    const refused = await failure((await call({ scope: 'integrations:use' })).credentials.issue({ org_id: 'org-b' }));
    expect(refused.message).toBe('This call needs the "integrations:use:org:org-b" scope.');
    const attempts = (await rows()).filter((r) => r.phase === 'attempt');
    expect(attempts.map((r) => r.detail)).toEqual([{ binding: 'org' }, { binding: 'platform' }]);
  });

  it('a caller allowed whatever org its input names never reads it for that: an unreadable body is a 400, not a denial', async () => {
    const unreadable = '{"org_id": "org-a"';
    const bearer = async (claims: Record<string, unknown>) => `Bearer ${await sign(claims)}`;
    const orgAdmin = { scope: 'admin:org:org-a', amr: ['otp'], auth_time: NOW_S };
    const answers = [
      // A cluster admin on a procedure whose input names the org, with or without an org role beside.
      await wire('integrations.disconnect', { body: unreadable, authorization: await bearer(fresh) }),
      await wire('integrations.disconnect', {
        body: unreadable,
        authorization: await bearer({ ...fresh, scope: 'admin:org:org-b admin:cluster' }),
      }),
      // admin:read reaches every org for reading.
      await wire('integrations.get?input=%7B', { authorization: await bearer({ scope: 'admin:read' }) }),
      // An org admin on a procedure whose org does not come from its input (a filtered list, a self call).
      await wire('integrations.list?input=%7B', { authorization: await bearer(orgAdmin) }),
      await wire('sessions.signOutEverywhere', { body: unreadable, authorization: await bearer(orgAdmin) }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ data: { app_code: 'invalid_request' } });
    }
    // Nothing ran, and nobody was denied.
    expect(await rows()).toEqual([]);
  });
});

describe('what the audit log says', () => {
  it('a mutation is audited before it runs with its target and role, the run id reaches the handler, the outcome after', async () => {
    // A service scope beside the admin role plays no part in an admin call.
    const gina = {
      sub: 'gina',
      scope: 'integrations:use',
      groups: ['platform-admins'],
      amr: ['hwk'],
      auth_time: NOW_S,
    };
    const api = await call(gina);
    const result = await api.integrations.disconnect({ org_id: 'org-a', kind: 'huggingface' });
    expect(result.runId).toMatch(/^run_/);
    expect(result.binding).toBeNull();
    const [attempt, outcome] = await rows();
    expect(attempt).toMatchObject({
      runId: result.runId,
      actor: 'gina',
      clientIp: '192.0.2.9',
      action: 'integrations.disconnect',
      phase: 'attempt',
      outcome: 'started',
      orgId: 'org-a',
      kind: 'huggingface',
      credentialKey: 'huggingface:org:org-a',
    });
    expect(attempt?.detail).toEqual({ role: 'admin:cluster', role_via: 'groups:platform-admins' });
    expect(outcome).toMatchObject({ runId: result.runId, phase: 'outcome', outcome: 'success' });
    // Reads are not audited.
    await api.integrations.get({ org_id: 'org-a' });
    expect(await rows()).toHaveLength(2);
  });

  it('the target: a kind from the procedure, an org id only when valid, nothing from input that is not an object', async () => {
    const api = await call(fresh);
    await api.integrations.rotate({ org_id: 'org-a' });
    await api.integrations.disconnect({ org_id: 'org-a' });
    await api.integrations.disconnect({ org_id: 'Not An Org!', kind: 'not-a-kind' });
    await api.sessions.signOutEverywhere();
    const attempts = (await rows()).filter((r) => r.phase === 'attempt');
    expect(attempts.map((r) => [r.orgId, r.kind, r.credentialKey])).toEqual([
      ['org-a', 'huggingface', 'huggingface:org:org-a'],
      ['org-a', null, null],
      [null, null, null],
      [null, null, null],
    ]);
  });

  it('a wizard session or a share named in the input gives the org and kind it belongs to', async () => {
    const wiz = await session('org-s', 'cloud_aws');
    const { row: share } = await createShare(
      store.db,
      { sessionId: wiz.id, orgId: 'org-s', createdBy: 'alice', expiresAt: '2031-05-02T00:00:00.000Z' },
      '2031-05-01T11:00:00.000Z',
    );
    const api = await call(fresh);
    await api.cloudOnboarding.get({ session_id: wiz.id });
    await api.cloudOnboarding.share({ share_id: share.id });
    await api.cloudOnboarding.get({ session_id: 'wiz_nobody' });
    await api.cloudOnboarding.share({ share_id: 'shr_000000000000000000000000' });
    await api.cloudOnboarding.share({ share_id: `${share.id}0` });
    await api.cloudOnboarding.share({ share_id: `x${share.id}` });
    // Only a string is an id: a list holding one is the caller's bad input, looked up nowhere.
    expect((await failure(api.cloudOnboarding.share({ share_id: [share.id] } as never))).code).toBe('invalid_request');
    const attempts = (await rows()).filter((r) => r.phase === 'attempt');
    expect(attempts.map((r) => [r.orgId, r.kind, r.credentialKey])).toEqual([
      ['org-s', 'cloud_aws', 'cloud_aws:org:org-s'],
      ['org-s', 'cloud_aws', 'cloud_aws:org:org-s'],
      [null, null, null],
      [null, null, null],
      [null, null, null],
      [null, null, null],
      [null, null, null],
    ]);
  });

  it('a denied call names its org from a body only when that body is small enough to read for it', async () => {
    const deny = (bodyBytes: number | null | undefined) =>
      failure(anonymous(bodyBytes === undefined ? {} : { bodyBytes }).integrations.get({ org_id: 'org-a' }));
    for (const size of [undefined, 4096, 4097, null]) await deny(size);
    // A body that cannot be read still gets its denial audited, without a target.
    const unreadable = await wire('integrations.disconnect', { body: '{"org_id": "org-a"', bodyBytes: 18 });
    expect(unreadable.status).toBe(401);
    const denied = (await rows()).filter((r) => r.phase === 'denied');
    expect(denied.map((r) => [r.action, r.orgId])).toEqual([
      ['integrations.get', 'org-a'],
      ['integrations.get', 'org-a'],
      ['integrations.get', null],
      ['integrations.get', null],
      ['integrations.disconnect', null],
    ]);
  });

  it('a procedure whose path is no audit action is refused before it runs, naming the procedure', async () => {
    const error = await failure((await call(fresh)).unaudited.thing());
    expect(error).toMatchObject({ code: 'internal', message: 'No audit action for the procedure unaudited.thing.' });
    expect(await rows()).toEqual([]);
  });

  it('a handler’s typed failure leaves as itself and is the outcome of its run', async () => {
    const error = await failure((await call(fresh)).integrations.checkHealth({ org_id: 'org-a', kind: 'huggingface' }));
    expect(error).toMatchObject({ code: 'credential_rejected', extra: { upstream: 'huggingface' } });
    const [, outcome] = await rows();
    expect(outcome).toMatchObject({
      phase: 'outcome',
      outcome: 'failure',
      detail: { code: 'credential_rejected', status: 422 },
    });
    expect(logged).toEqual([]);
  });

  it('an audit log that cannot be written refuses the mutation before the handler runs', async () => {
    const broken = await openDatabase({ dbPath: join(dir, 'admin.db') });
    await broken.close();
    deps.db = broken.db;
    const error = await failure((await call(fresh)).integrations.disconnect({ org_id: 'org-a' }));
    expect(error.code).toBe('audit_unavailable');
    expect(error.message).toContain('the action was refused and nothing changed');
  });
});

describe('the hand-off page', () => {
  async function link(expiresAt = '2031-05-02T00:00:00.000Z') {
    const wiz = await session('org-h', 'cloud_gcp');
    const { row, token } = await createShare(
      store.db,
      { sessionId: wiz.id, orgId: 'org-h', createdBy: 'alice', expiresAt },
      '2031-05-01T11:00:00.000Z',
    );
    return { wiz, share: row, token };
  }

  it('a live link opens its session; the call is audited as the share, never with the token', async () => {
    const { wiz, share, token } = await link();
    const result = await anonymous().handoff.get({ token });
    expect(result).toMatchObject({ share: share.id, session: wiz.id, runId: expect.stringMatching(/^run_/) });
    const [attempt, outcome] = await rows();
    expect(attempt).toMatchObject({
      runId: result.runId,
      actor: `share:${share.id}`,
      clientIp: '192.0.2.9',
      action: 'handoff.get',
      phase: 'attempt',
      orgId: 'org-h',
      kind: 'cloud_gcp',
      credentialKey: 'cloud_gcp:org:org-h',
      detail: { share_id: share.id, session_id: wiz.id },
    });
    expect(outcome).toMatchObject({ phase: 'outcome', outcome: 'success' });
    expect(JSON.stringify(await rows())).not.toContain(token);
    const failed = await failure(anonymous().handoff.submit({ token }));
    expect(failed).toMatchObject({ code: 'precondition_failed', message: 'Run step 1 first.' });
    expect((await rows()).at(-1)).toMatchObject({ action: 'handoff.submit', outcome: 'failure' });
  });

  it('an unknown, malformed, revoked or expired token gets one answer; input no link could carry is a bad request', async () => {
    const live = await link();
    const expired = await link('2031-05-01T12:00:00.000Z');
    const revoked = await link();
    await revokeShares(store.db, { id: revoked.share.id }, '2031-05-01T11:30:00.000Z');
    for (const token of [TOKEN, 'short', `${live.token}A`, `=${live.token.slice(1)}`, expired.token, revoked.token]) {
      const error = await failure(anonymous().handoff.get({ token }));
      expect(error.code).toBe('not_found');
      expect(error.message).toBe('This link has expired or was revoked. Ask the person who sent it for a new one.');
    }
    for (const input of [null, { token: 42 }, {}, { token: `${TOKEN}\u0000` }, { token: TOKEN, note: 'a\nb' }]) {
      const error = await failure(anonymous().handoff.get(input as never));
      expect(error).toMatchObject({ code: 'invalid_request', extra: { field: 'token' } });
      expect(error.message).toBe('The link is malformed: copy the whole link again.');
    }
    for (const input of [
      { token: live.token, 'k\u0007': 1 },
      { token: live.token, a: { b: ['\u001b'] } },
      { token: live.token, a: { b: { c: { d: { x: '\u007f' } } } } },
    ]) {
      expect((await failure(anonymous().handoff.get(input as never))).code).toBe('invalid_request');
    }
    // Nesting deeper than a form ever sends is not searched; plain text, numbers and empty fields pass.
    const deep = { token: live.token, a: { b: { c: { d: { e: { f: '\u0000' } } } } }, n: 1, t: 'é ✓', none: null };
    expect((await anonymous().handoff.get(deep)).share).toBe(live.share.id);
    const denied = (await rows()).filter((r) => r.phase === 'denied');
    expect(denied).toHaveLength(14);
    expect(denied[0]).toMatchObject({
      actor: 'anonymous',
      action: 'handoff.get',
      orgId: null,
      detail: { status: 404 },
    });
  });

  it('each address has its budget per minute, shared by every hand-off procedure', async () => {
    const { token } = await link();
    for (let i = 0; i < HANDOFF_PER_MINUTE; i++) await anonymous().handoff.get({ token });
    const error = await failure(anonymous().handoff.get({ token }));
    expect(error).toMatchObject({ code: 'rate_limited', extra: { headers: { 'retry-after': '60' } } });
    expect(error.message).toBe('Too many requests from this address; wait a minute, then retry.');
    // Another address, and callers without one, draw on budgets of their own.
    expect((await anonymous({ clientIp: '192.0.2.10' }).handoff.get({ token })).runId).toBeTruthy();
    expect((await anonymous({ clientIp: null }).handoff.get({ token })).runId).toBeTruthy();
    // A minute later the address may call again.
    deps.now = () => new Date(NOW.getTime() + 60_001);
    expect((await anonymous().handoff.get({ token })).runId).toBeTruthy();
  });
});

describe('how failures leave', () => {
  it('an unexpected throw is internal, logged with the request id and stack frames, never its message', async () => {
    const error = await failure(anonymous().system.info());
    expect(error).toMatchObject({
      code: 'internal',
      message: 'Internal error. The incident was logged with the request id.',
    });
    expect(logged).toHaveLength(1);
    const { obj, msg } = logged[0] ?? { obj: {}, msg: '' };
    expect(msg).toBe('unexpected error');
    expect(obj).toMatchObject({ request_id: 'req-1', where: 'system.info', error_name: 'Error' });
    expect(obj.frames).toMatch(/^ {4}at /);
    expect(JSON.stringify(logged)).not.toContain('hf_secret_canary_0001');
  });

  it('logCrash keeps at most seven frames and survives a thrown non-error', () => {
    const stack = ['Error: hf_secret_canary_0002', ...Array.from({ length: 9 }, (_, i) => `    at f${i}`)].join('\n');
    const ctx = { logger: deps.logger, req: request(undefined) };
    logCrash(ctx, 'x', Object.assign(new Error('m'), { stack }));
    logCrash(ctx, 'y', undefined);
    expect(logged[0]?.obj.frames).toBe(Array.from({ length: 7 }, (_, i) => `    at f${i}`).join('\n'));
    expect(logged[1]?.obj).toEqual({ request_id: 'req-1', where: 'y', error_name: undefined, frames: '' });
  });

  it('a crash inside an audited procedure is logged too, with the error’s own name', async () => {
    expect((await failure((await call(fresh)).integrations.history())).code).toBe('internal');
    const { token } = await (async () => {
      const wiz = await session('org-h', 'cloud_gcp');
      return createShare(
        store.db,
        { sessionId: wiz.id, orgId: 'org-h', createdBy: 'alice', expiresAt: '2031-05-02T00:00:00.000Z' },
        '2031-05-01T11:00:00.000Z',
      );
    })();
    expect((await failure(anonymous().handoff.verifyTrust({ token } as never))).code).toBe('internal');
    expect(logged.map((l) => [l.obj.where, l.obj.error_name])).toEqual([
      ['integrations.history', 'RangeError'],
      ['handoff.verifyTrust', 'TypeError'],
    ]);
    expect((await rows()).filter((r) => r.phase === 'outcome').map((r) => r.outcome)).toEqual(['failure', 'failure']);
  });

  it('a handler’s own internal error keeps its message, in an audited and in a hand-off procedure', async () => {
    const audited = await failure((await call(fresh)).integrations.timeline());
    expect(audited).toMatchObject({ code: 'internal', message: UNLOCK_FIRST });
    const { token } = await createShare(
      store.db,
      { sessionId: (await session()).id, orgId: 'org-s', createdBy: 'alice', expiresAt: '2031-05-02T00:00:00.000Z' },
      '2031-05-01T11:00:00.000Z',
    );
    const handoff = await failure(anonymous().cloudOnboarding.validateIdentity({ token } as never));
    expect(handoff).toMatchObject({ code: 'internal', message: UNLOCK_FIRST });
    expect((await rows()).filter((r) => r.phase === 'outcome').map((r) => r.outcome)).toEqual(['failure', 'failure']);
  });

  it('tRPC’s own refusals and our typed errors are not logged as crashes', async () => {
    expect((await failure(anonymous().store.status())).code).toBe('insufficient_scope');
    expect((await failure(anonymous().system.whoami())).code).toBe('not_found');
    expect(logged).toEqual([]);
  });

  it('on the wire, the JSON-RPC code, the tRPC code and the HTTP status all follow the typed error', async () => {
    const notFound = await wire('system.whoami');
    expect(notFound.status).toBe(404);
    expect(notFound.body.error).toEqual({
      message: 'No such thing.',
      code: -32004,
      data: {
        code: 'NOT_FOUND',
        httpStatus: 404,
        path: 'system.whoami',
        app_code: 'not_found',
        upstream: null,
        field: 'org_id',
      },
    });
    const crash = await wire('system.info');
    expect(crash.status).toBe(500);
    expect(crash.body.error).toMatchObject({ code: -32603, data: { code: 'INTERNAL_SERVER_ERROR', field: null } });
  });
});
