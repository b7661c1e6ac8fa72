// Worker thread for bench/health-sweep.ts: the fake Hugging Face upstream and the alert webhook
// receiver, on loopback, off the sweeping process's event loop (see upstream.ts).
import { createServer } from 'node:http';
import { parentPort } from 'node:worker_threads';
import { hfProfile, startHuggingFaceFake } from '@alphaswarm/providers/fakes';
import type { UpstreamCall, UpstreamReply } from './upstream';

const port = parentPort;
if (!port) throw new Error('upstream-worker.ts runs as a worker thread');

const hf = await startHuggingFaceFake();
let received = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(204).end();
  });
});
// Like the fake's: longer than undici's keep-alive threshold, so the dispatcher reuses connections.
receiver.keepAliveTimeout = 10_000;
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

function answer(call: UpstreamCall): UpstreamReply {
  switch (call.op) {
    case 'delay':
      hf.knobs.delayMs = call.ms;
      return { op: 'ok' };
    case 'add':
      for (const token of call.tokens) hf.addToken(token, hfProfile({ name: 'bench', role: 'read' }));
      return { op: 'ok' };
    case 'revoke':
      for (const token of call.tokens) hf.tokens.delete(token);
      return { op: 'ok' };
    case 'count': {
      // Probes per token since the last count, so a run is counted on its own.
      const counts: Record<string, number> = {};
      for (const r of hf.requests.splice(0)) {
        const token = String(r.headers.authorization ?? '');
        counts[token] = (counts[token] ?? 0) + 1;
      }
      return { op: 'counts', counts, received };
    }
    case 'close':
      receiver.closeAllConnections();
      receiver.close();
      void hf.close().then(() => port?.close());
      return { op: 'ok' };
  }
}

port.on('message', (m: { id: number; call: UpstreamCall }) => port.postMessage({ id: m.id, reply: answer(m.call) }));
port.postMessage({ id: 0, reply: { op: 'ready', hfUrl: hf.url, receiverUrl } satisfies UpstreamReply });
