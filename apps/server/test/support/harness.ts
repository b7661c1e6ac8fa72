import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateKey, Keyring, type SqliteStore, type Store } from '@alphaswarm/db';
import { freePort } from '@alphaswarm/db/testing';
import type { HttpClient, UpstreamConfig } from '@alphaswarm/providers';
import { DEFAULT_UPSTREAMS } from '@alphaswarm/providers/fakes';
import { parseEnv } from '../../src/env';
import { listen, type RouteHandler, type RunningServer } from '../../src/http-server';
import { createLogger } from '../../src/logger';
import { createRuntime, type Runtime } from '../../src/runtime';
import { type TestDatabase, testDatabase } from './database';
import { startTestOidc, type TestOidc } from './oidc';

/**
 * The harness's store. `sqlite` (the raw driver) exists on SQLite only; the tests that use it run
 * only there, and a PostgreSQL run of one fails saying so.
 */
export type HarnessStore = Store & Pick<SqliteStore, 'sqlite'>;

/**
 * Password hashes at scrypt's lowest accepted cost (2^14, half the default): the sign-in suites
 * hash hundreds of times, and the cost is configuration, not behaviour (production refuses it).
 */
export const TEST_PASSWORD_COST = { ALPHASWARM_ADMIN_PASSWORD_SCRYPT_N: String(2 ** 14) };

export interface Harness {
  rt: Runtime & { store: HarnessStore };
  store: HarnessStore;
  /** The database under the server, and the environment that points the CLI at it. */
  database: TestDatabase;
  dir: string;
  /** The SQLite file (on PostgreSQL, where one would be: nothing is there). */
  dbPath: string;
  key: string;
  keyring: Keyring;
  oidc: TestOidc;
  server: RunningServer;
  url: string;
  /** Every log line the server wrote. */
  logs: string[];
  /** The environment for the CLI run in-process against this server's database and key. */
  cliEnv: Record<string, string>;
  token(claims?: Parameters<TestOidc['mint']>[0]): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real server on loopback over a real database (a SQLite file, or a fresh PostgreSQL database,
 * by the test project), trusting a loopback OIDC issuer, with upstreams pointed wherever the test
 * says (its fakes).
 */
export async function startHarness(
  opts: {
    upstreams?: Partial<UpstreamConfig>;
    env?: Record<string, string>;
    http?: HttpClient;
    /** Plain-HTTP routes to mount, built from the runtime (e.g. the embedded IdP's). */
    extraRoutes?: (rt: Runtime) => RouteHandler[];
    now?: () => Date;
    /** Listen here (and use it in the public URL), e.g. when fakes must trust our workload issuer first. */
    port?: number;
    /** The SQLite file (default: admin.db in the harness's temp directory); PostgreSQL ignores it. */
    dbPath?: string;
  } = {},
): Promise<Harness> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'alphaswarm-test-'));
  const database = await testDatabase({ dir, ...(opts.dbPath ? { dbPath: opts.dbPath } : {}) });
  const dbPath = database.config.dbPath;
  const key = generateKey();
  const keyring = Keyring.fromEnv(key);
  const oidc = await startTestOidc();
  const env = parseEnv({
    ALPHASWARM_ENV: 'test',
    ...TEST_PASSWORD_COST,
    ...database.env,
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key,
    ALPHASWARM_ADMIN_OIDC_ISSUER: oidc.issuer,
    ALPHASWARM_ADMIN_OIDC_AUDIENCE: oidc.audience,
    ALPHASWARM_ADMIN_HEALTH_INTERVAL: '0',
    ALPHASWARM_ADMIN_PORT: String(port),
    ALPHASWARM_ADMIN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    HOME: dir,
    ...opts.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const store = sqliteOnly(await database.open());
  const rt = createRuntime({
    env,
    store,
    keyring,
    ephemeralKey: false,
    logger: createLogger('debug', sink),
    upstreams: { ...DEFAULT_UPSTREAMS, ...opts.upstreams },
    ...(opts.http ? { http: opts.http } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  }) as Runtime & { store: HarnessStore };
  const server = await listen(rt, { port, ...(opts.extraRoutes ? { extraRoutes: opts.extraRoutes(rt) } : {}) });
  return {
    rt,
    store,
    database,
    dir,
    dbPath,
    key,
    keyring,
    oidc,
    server,
    url: server.url,
    logs,
    cliEnv: {
      ALPHASWARM_ENV: 'test',
      ...TEST_PASSWORD_COST,
      HOME: dir,
      ...database.env,
      ALPHASWARM_ADMIN_INTEGRATIONS_KEY: key,
    },
    token: (claims) => oidc.mint(claims),
    async close() {
      await server.close();
      await oidc.close();
      await rt.http.close();
      await store.close();
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sqliteOnly(store: Store): HarnessStore {
  if ('sqlite' in store) return store as HarnessStore;
  return Object.defineProperty(store, 'sqlite', {
    get() {
      throw new Error('store.sqlite exists only on SQLite: use store.exec or test/support/database.ts');
    },
  }) as HarnessStore;
}

/** A port free right now on 127.0.0.1, for a server started later and told its port. */
export { freePort };

export async function call(
  h: Harness,
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = opts.token === undefined ? await h.token() : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}
