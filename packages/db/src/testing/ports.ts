import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The kernel's ephemeral range (`bind(0)` and outgoing connections draw from it). A port picked
 * below it cannot be handed to some other server that binds port 0 between our pick and our bind:
 * with a port from `bind(0)` itself, a fake started in between could take it, and a readiness
 * probe would then get an answer from the wrong process.
 */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const LOW = 10_000;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port free right now on 127.0.0.1, for a server that is started later and is told its port (a
 * child process, PostgreSQL): chosen at random below the ephemeral range and checked by binding it.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  if (high - LOW > 1_000) {
    for (let i = 0; i < 50; i++) {
      const port = LOW + Math.floor(Math.random() * (high - LOW));
      if (await bindable(port)) return port;
    }
  }
  // No room below the range (an unusual kernel setting): let the kernel choose.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
