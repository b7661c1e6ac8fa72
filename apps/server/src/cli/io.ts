import { resolve } from 'node:path';

/** Everything a CLI command reads from or writes to the outside world, so it can run in-process. */

export interface CliInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

export interface CliOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  /** The variables env.ts parses (ALPHASWARM_*, HOME); the real bin passes the process's. */
  env: Record<string, string | undefined>;
  /** `--password-stdin` and the interactive password prompt read it. */
  stdin: CliInput;
  /** Results; one line per fact, parseable. */
  stdout: CliOutput;
  /** Prompts, progress, notes, warnings and the one `error:` line. */
  stderr: CliOutput;
  /** Relative FILE arguments are taken from here (default: the process's working directory). */
  cwd?: string;
  /** The clock of audit rows and reports (default: the system clock). */
  now?: () => Date;
  /**
   * For a command that runs until it is told to stop (`serve`): a signal that aborts when the
   * process is asked to stop. The real bin turns SIGINT/SIGTERM into it only for such a command,
   * so Ctrl-C still ends any other command at once.
   */
  shutdown?: () => AbortSignal;
}

/** The io a command works with: lines out, lines err, and the injected clock. */
export class Cli {
  constructor(readonly io: CliIo) {}

  out(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }

  err(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  now(): Date {
    return this.io.now?.() ?? new Date();
  }

  /** A FILE argument as an absolute path. */
  path(file: string): string {
    return this.io.cwd === undefined ? resolve(file) : resolve(this.io.cwd, file);
  }
}
