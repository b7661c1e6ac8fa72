// Graceful stop as `serve` does it on SIGTERM (issue 12 item 7), on both dialects: no new
// connection, the request in flight finishes and commits, the database is closed after it;
// past the grace, what still runs is cut.
import { Writable } from 'node:stream';
import { generateKey, listLinks } from '@alphaswarm/db';
import { DEFAULT_UPSTREAMS, type HuggingFaceFake, hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEnv } from '../src/env';
import { createLogger } from '../src/logger';
import { bootstrap } from '../src/runtime/bootstrap';
import { serve } from '../src/serve';
import { testDatabase } from './support/database';
import { startTestOidc, type TestOidc } from './support/oidc';

let hf: HuggingFaceFake;
let oidc: TestOidc;
beforeAll(async () => {
  hf = await startHuggingFaceFake();
  hf.addToken('hf_read_token_alpha', hfProfile({ name: 'alice', role: 'read' }));
  oidc = await startTestOidc();
});
afterAll(async () => {
  await oidc.close();
  await hf.close();
});

async function started(grace: number) {
  const database = await testDatabase();
  const logs: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  );
  const env = parseEnv({
    ALPHASWARM_ENV: 'test',
    ...database.env,
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: generateKey(),
    ALPHASWARM_ADMIN_OIDC_ISSUER: oidc.issuer,
    ALPHASWARM_ADMIN_OIDC_AUDIENCE: oidc.audience,
    ALPHASWARM_ADMIN_HEALTH_INTERVAL: '0',
    ALPHASWARM_ADMIN_SHUTDOWN_GRACE: String(grace),
    ALPHASWARM_ADMIN_PORT: '0',
    HOME: database.dir,
  });
  const serving = await serve(await bootstrap(env, logger), logger, {
    upstreams: { ...DEFAULT_UPSTREAMS, huggingfaceEndpoint: hf.url },
  });
  const connect = async (org: string) =>
    fetch(`${serving.url}/admin/accounts/${org}/integrations/huggingface`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await oidc.mint()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'hf_read_token_alpha' }),
    });
  /** Resolves once the fake upstream holds a request: the API call is in flight. */
  const upstreamHolds = async (seen: number) => {
    while (hf.requests.length === seen) await new Promise((r) => setTimeout(r, 5));
  };
  return { database, logs, serving, connect, upstreamHolds };
}

it('stops accepting, lets the request in flight finish and commit, then closes the database', async () => {
  const s = await started(30);
  try {
    hf.knobs.delayMs = 300;
    const seen = hf.requests.length;
    const inFlight = s.connect('org-drain');
    await s.upstreamHolds(seen);
    const stopped = s.serving.stop();
    await expect(fetch(`${s.serving.url}/livez`)).rejects.toThrow();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    await stopped;
    expect(await s.serving.runtime.store.ping()).toBe(false);
    const reopened = await s.database.open();
    try {
      expect((await listLinks(reopened.db, 'org-drain')).map((l) => l.kind)).toEqual(['huggingface']);
    } finally {
      await reopened.close();
    }
    expect(s.logs.join('')).not.toContain('were cut');
  } finally {
    hf.knobs.delayMs = 0;
    await s.database.dispose();
  }
});

it('cuts what still runs after the grace, and still stops', async () => {
  const s = await started(0);
  try {
    hf.knobs.delayMs = 1_000;
    const seen = hf.requests.length;
    const inFlight = s.connect('org-cut').then(
      (r) => r.status,
      () => 'cut',
    );
    await s.upstreamHolds(seen);
    await s.serving.stop();
    expect(await inFlight).toBe('cut');
    expect(s.logs.join('')).toContain('1 request(s) still running after the shutdown grace were cut');
  } finally {
    hf.knobs.delayMs = 0;
    await s.database.dispose();
  }
});
