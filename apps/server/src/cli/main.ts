/**
 * Entry point of bin/alphaswarm-admin (compiled to apps/server/dist/cli.js): the CLI with this
 * process's environment and streams. The only place the CLI touches `process`.
 */

import { runCli } from './run';

let shutdown: AbortController | undefined;

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    shutdown: () => {
      if (!shutdown) {
        const controller = new AbortController();
        shutdown = controller;
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }
      return shutdown.signal;
    },
  });
} catch (error) {
  const { describeError } = await import('./context');
  process.stderr.write(`error: ${describeError(error)}\n`);
  process.exitCode = 1;
}
