import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhook } from '../services/alerts';

interface Delivery {
  received_at: string;
  id: string;
  type: string | null;
  subject: string | null;
  signature_valid: boolean;
  body: unknown;
}

/**
 * The sandbox's alert receiver: takes the webhooks the sandbox server sends, checks their Standard
 * Webhooks signature, and lists the last 50 at `GET /` (JSON), so a newcomer sees what an alert is.
 * `POST /slack` stands in for a Slack incoming webhook (a managed endpoint of type slack): its
 * `{"text"}` messages are unsigned, as Slack's are, and answered `ok`.
 */
export async function startWebhookReceiver(): Promise<{ url: string; secret: string; close(): Promise<void> }> {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ deliveries }, null, 2));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 256 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url?.startsWith('/slack')) {
        let text: unknown = null;
        try {
          text = (JSON.parse(body) as { text?: unknown }).text;
        } catch {
          text = null;
        }
        const ok = typeof text === 'string';
        deliveries.unshift({
          received_at: new Date().toISOString(),
          id: '',
          type: 'slack',
          subject: null,
          signature_valid: false,
          body: ok ? { text } : body.slice(0, 1000),
        });
        deliveries.length = Math.min(deliveries.length, 50);
        res.writeHead(ok ? 200 : 400, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'invalid_payload');
        return;
      }
      const id = String(req.headers['webhook-id'] ?? '');
      const timestamp = Number(req.headers['webhook-timestamp'] ?? Number.NaN);
      const given = String(req.headers['webhook-signature'] ?? '');
      const want = Number.isFinite(timestamp) ? signWebhook(secret, id, timestamp, body) : '';
      const valid = given.length === want.length && timingSafeEqual(Buffer.from(given), Buffer.from(want));
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = body.slice(0, 1000);
      }
      const event = (parsed ?? {}) as { type?: string; subject?: string };
      deliveries.unshift({
        received_at: new Date().toISOString(),
        id,
        type: event.type ?? null,
        subject: event.subject ?? null,
        signature_valid: valid,
        body: parsed,
      });
      deliveries.length = Math.min(deliveries.length, 50);
      res.writeHead(valid ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    secret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
