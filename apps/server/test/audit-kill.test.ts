// kill -9 of a real `serve` (the compiled bundle) while its audit sink is down: after a restart with
// the receiver up, every event reaches it, none twice (issue 14: "a restart loses nothing").
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { auditRowsAfter, generateKey } from '@alphaswarm/db';
import { hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import { afterAll, expect, it } from 'vitest';
import { otlpReceiver, type Receiver } from '../src/audit/receivers';
import { BIN } from './run-cli';
import { testDatabase } from './support/database';
import { freePort } from './support/harness';
import { startTestOidc } from './support/oidc';

const children: ChildProcess[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const close of closers.reverse()) await close();
});

/** `serve` from the bin; resolves with its URL once it listens, and waits on its log for `line`. */
async function startServe(env: Record<string, string>) {
  const child = spawn(BIN, ['serve'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: () => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.filter((w) => w.match(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const logged = (match: (l: string) => boolean) =>
    new Promise<void>((resolve, reject) => {
      waiters.push({ match, resolve });
      child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${lines.slice(-5).join('\n')}`)));
    });
  await logged((l) => l.includes('"msg":"listening"'));
  return { child, logged };
}

it('kill -9 with undelivered audit events, restart with the receiver up: each arrives once', async () => {
  const oidc = await startTestOidc();
  closers.push(() => oidc.close());
  const hf = await startHuggingFaceFake();
  closers.push(() => hf.close());
  hf.addToken('hf_read_token_alpha', hfProfile({ name: 'alice', role: 'read' }));
  const database = await testDatabase();
  closers.push(() => database.dispose());
  const [port, sinkPort] = [await freePort(), await freePort()];
  const env = {
    ALPHASWARM_ENV: 'test',
    ...database.env,
    ALPHASWARM_ADMIN_INTEGRATIONS_KEY: generateKey(),
    ALPHASWARM_ADMIN_AUDIT_KEY: generateKey(),
    ALPHASWARM_ADMIN_OIDC_ISSUER: oidc.issuer,
    ALPHASWARM_ADMIN_OIDC_AUDIENCE: oidc.audience,
    ALPHASWARM_ADMIN_HF_ENDPOINT: hf.url,
    ALPHASWARM_ADMIN_HOST: '127.0.0.1',
    ALPHASWARM_ADMIN_PORT: String(port),
    ALPHASWARM_ADMIN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    ALPHASWARM_ADMIN_HEALTH_INTERVAL: '0',
    // Nothing listens there yet: the sink is down.
    ALPHASWARM_ADMIN_AUDIT_SINK_OTLP_URL: `http://127.0.0.1:${sinkPort}`,
    // Retries every second at most, so the restarted process's first due retry is soon.
    ALPHASWARM_ADMIN_AUDIT_SINK_RETRY_MAX: '1',
    HOME: database.dir,
  };

  const first = await startServe(env);
  for (const org of ['org-k1', 'org-k2']) {
    const res = await fetch(`http://127.0.0.1:${port}/admin/accounts/${org}/integrations/huggingface`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await oidc.mint()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'hf_read_token_alpha' }),
    });
    expect(res.status).toBe(200);
  }
  // Killed between attempts (a failed one gives its lease up): no clean stop, nothing acknowledged.
  await first.logged((l) => l.includes('audit sink delivery failed'));
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');

  const store = await database.open();
  const before = (await auditRowsAfter(store.db, 0, 10_000)).map((r) => r.seq);
  await store.close();
  expect(before.length).toBeGreaterThanOrEqual(4);

  const receiver: Receiver = await otlpReceiver({ port: sinkPort });
  closers.push(() => receiver.close());
  const second = await startServe(env);
  const deadline = Date.now() + 20_000;
  const seqs = () => receiver.received.map((r) => r.seq);
  while (!before.every((s) => seqs().includes(s)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  second.child.kill('SIGKILL');
  await once(second.child, 'exit');
  expect(seqs().slice(0, before.length)).toEqual(before);
  expect(new Set(seqs()).size).toBe(seqs().length);
});
