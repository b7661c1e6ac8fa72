import { type ChildProcess, spawn } from 'node:child_process';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Its stdout, line by line, as it arrives. */
  stdout: string[];
  exited: Promise<unknown>;
  /** Settles once `probe` answers as `isUp` wants; fails with the process's stderr if it exits first. */
  ready: Promise<void>;
}

/**
 * A server as its own process on `port` (`serve`, or the built console), polled on loopback until
 * it answers: a readiness answer, not a time, says when a test may use it.
 */
export function startServerProcess(
  command: string,
  args: string[],
  opts: {
    env: NodeJS.ProcessEnv;
    port: number;
    /** The path polled, e.g. `/readyz`. */
    probe: string;
    isUp?: (res: Response) => boolean;
    timeoutMs?: number;
  },
): ServerProcess {
  const child = spawn(command, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.push(...chunk.split('\n')));
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((done) => child.on('exit', done));
  const url = `http://127.0.0.1:${opts.port}`;
  const isUp = opts.isUp ?? ((res: Response) => res.ok);
  const ready = (async () => {
    for (const deadline = Date.now() + (opts.timeoutMs ?? 30_000); Date.now() < deadline; ) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${stderr}`);
      const up = await fetch(`${url}${opts.probe}`, { redirect: 'manual' }).then(isUp, () => false);
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${args.join(' ')} did not answer ${opts.probe}: ${stderr}`);
  })();
  return { url, child, stdout, exited, ready };
}
