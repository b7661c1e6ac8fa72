// Child process for bench/api.ts: serves tRPC's standalone adapter with a constant query, or the real
// API on SQLite or PostgreSQL.

import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, isoNow, Keyring, openDatabase, sealSecret, upsertLink } from '@alphaswarm/db';
import { createLogger, createRuntime, listen, parseEnv } from '@alphaswarm/server';
import { ADMIN_AUDIENCE } from '@alphaswarm/server/runtime';
import pino from 'pino';

const mode = process.argv[2];
// Exit cleanly on a signal so `--cpu-prof` can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
if (mode === 'trpc') {
  // The ceiling tRPC's standalone adapter itself allows: a constant query, no auth, no database.
  const { initTRPC } = await import('@trpc/server');
  const { createHTTPHandler } = await import('@trpc/server/adapters/standalone');
  const t = initTRPC.create();
  const router = t.router({
    integrations: t.router({
      get: t.procedure.query(() => ({ integration: { org_id: 'org-bench', kind: 'cloud_aws' } })),
    }),
  });
  const handler = createHTTPHandler({ router, basePath: '/trpc/' });
  const server = createServer((req, res) => handler(req, res));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address && typeof address === 'object')
      process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
  });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'alphaswarm-bench-'));
  const key = generateKey();
  // `app [postgres-url]`: the real API on SQLite, or on that PostgreSQL database.
  const databaseUrl = process.argv[3];
  const env = parseEnv({
    ALPHASWARM_ENV: 'test',
    ALPHASWARM_ADMIN_DB_PATH: join(dir, 'admin.db'),
    ...(databaseUrl ? { ALPHASWARM_ADMIN_DATABASE_URL: databaseUrl } : {}),
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key,
    ALPHASWARM_ADMIN_PORT: '0',
    ALPHASWARM_ADMIN_HEALTH_INTERVAL: '0',
    HOME: dir,
  });
  const store = await openDatabase(env.database);
  const rt = createRuntime({
    env,
    store,
    keyring: Keyring.fromEnv(key),
    ephemeralKey: false,
    logger: createLogger('info', pino.destination({ dest: join(dir, 'server.log'), sync: false })),
  });
  await upsertLink(
    store.db,
    {
      orgId: 'org-bench',
      kind: 'cloud_aws',
      namespace: '111122223333',
      status: 'healthy',
      error: null,
      metadata: { role_arn: 'arn:aws:iam::111122223333:role/x' },
      secret: null,
      expiresAt: null,
    },
    isoNow(new Date()),
  );
  // A token link for credentials.issue: issuing it decrypts the stored token, no upstream call.
  await upsertLink(
    store.db,
    {
      orgId: 'org-bench',
      kind: 'huggingface',
      namespace: 'bench',
      status: 'healthy',
      error: null,
      metadata: {},
      secret: sealSecret(rt.keyring, { token: 'hf_benchToken000000000000000000000' }),
      expiresAt: null,
    },
    isoNow(new Date()),
  );
  const server = await listen(rt, { port: 0 });
  const token = await rt.adminIssuer!.sign(
    {
      sub: 'bench',
      aud: ADMIN_AUDIENCE,
      scope: 'admin:read',
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: Math.floor(Date.now() / 1000),
    },
    900,
  );
  const serviceToken = await rt.adminIssuer!.sign(
    { sub: 'bench-service', aud: ADMIN_AUDIENCE, scope: 'integrations:use:org:org-bench' },
    900,
  );
  process.stdout.write(`${JSON.stringify({ url: server.url, token, serviceToken })}\n`);
}
