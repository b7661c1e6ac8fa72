import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobin {
  url: string;
  /** How many requests each backend was handed, by index. */
  served: number[];
  close(): Promise<void>;
}

/**
 * A load balancer in miniature on loopback: each request goes to the next backend in turn, headers
 * and body passed through as they are (no stickiness of any kind), one connection per request (a
 * reused one can be closed by the backend as it is reused). A backend that refuses the
 * connection answers 502, as a real balancer would before its health check notices.
 */
export async function startRoundRobin(backends: string[]): Promise<RoundRobin> {
  const served = backends.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const index = next++ % backends.length;
    served[index] = (served[index] ?? 0) + 1;
    const target = new URL(req.url ?? '/', backends[index]);
    const upstream = request(target, { method: req.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway');
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
