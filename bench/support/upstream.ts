// The fake upstream and the alert receiver of bench/health-sweep.ts, served from a worker thread.
// A real upstream and a real receiver run on other machines: in the sweeping process their CPU
// (about a third of it per probe, HTTP server parsing and JSON included) would be charged to the
// sweep and delay the replies it waits for, so the ratio would measure the fake as much as the sweep.
import { startTsWorker } from './ts-worker';

export type UpstreamCall =
  | { op: 'delay'; ms: number }
  | { op: 'add'; tokens: string[] }
  | { op: 'revoke'; tokens: string[] }
  | { op: 'count' }
  | { op: 'close' };

export type UpstreamReply =
  | { op: 'ok' }
  | { op: 'ready'; hfUrl: string; receiverUrl: string }
  /** Probes per Authorization header since the last count; webhooks received in all. */
  | { op: 'counts'; counts: Record<string, number>; received: number };

export interface RemoteUpstream {
  hfUrl: string;
  receiverUrl: string;
  delay(ms: number): Promise<void>;
  /** Valid tokens from now on (each answers a read-role whoami profile). */
  add(tokens: string[]): Promise<void>;
  revoke(tokens: string[]): Promise<void>;
  /** Probes per token since the last call (keyed by the Authorization header), and webhooks received in all. */
  count(): Promise<{ counts: Map<string, number>; received: number }>;
  close(): Promise<void>;
}

export async function startRemoteUpstream(): Promise<RemoteUpstream> {
  const worker = startTsWorker(new URL('./upstream-worker.ts', import.meta.url));
  const waiting = new Map<number, (reply: UpstreamReply) => void>();
  let failed: Error | null = null;
  worker.on('message', (m: { id: number; reply: UpstreamReply }) => {
    waiting.get(m.id)?.(m.reply);
    waiting.delete(m.id);
  });
  worker.on('error', (error) => {
    failed = error;
    for (const [, resolve] of waiting) resolve({ op: 'ok' });
  });
  const ready = await new Promise<UpstreamReply>((resolve) => waiting.set(0, resolve));
  if (failed) throw failed;
  if (ready.op !== 'ready') throw new Error(`upstream worker: unexpected first message ${ready.op}`);
  let next = 1;
  const call = async (c: UpstreamCall): Promise<UpstreamReply> => {
    if (failed) throw failed;
    const id = next++;
    const reply = new Promise<UpstreamReply>((resolve) => waiting.set(id, resolve));
    worker.postMessage({ id, call: c });
    const r = await reply;
    if (failed) throw failed;
    return r;
  };
  return {
    hfUrl: ready.hfUrl,
    receiverUrl: ready.receiverUrl,
    delay: async (ms) => void (await call({ op: 'delay', ms })),
    add: async (tokens) => void (await call({ op: 'add', tokens })),
    revoke: async (tokens) => void (await call({ op: 'revoke', tokens })),
    async count() {
      const r = await call({ op: 'count' });
      if (r.op !== 'counts') throw new Error(`upstream worker: unexpected reply ${r.op}`);
      return { counts: new Map(Object.entries(r.counts)), received: r.received };
    },
    async close() {
      const exited = new Promise((r) => worker.once('exit', r));
      await call({ op: 'close' });
      await exited;
    },
  };
}
