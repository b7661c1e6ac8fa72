import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/cli/run';

/** The compiled CLI, for the few tests where the process itself is the point (exit codes, signals, a TTY). */
export const BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/alphaswarm-admin');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in this process against captured streams: what the bin does, minus the process. */
export async function cliInProcess(
  args: string[],
  opts: { env: Record<string, string | undefined>; cwd?: string; stdin?: string; now?: () => Date },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: opts.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { code, stdout, stderr };
}

/** Run the compiled bin as a child process. */
export function cliProcess(args: string[], opts: { env: Record<string, string | undefined>; cwd: string }): CliRun {
  const result = spawnSync(BIN, args, {
    cwd: opts.cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...opts.env } as NodeJS.ProcessEnv,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
