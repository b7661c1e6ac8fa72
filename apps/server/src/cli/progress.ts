import type { Cli } from './io';

/** Progress of long work on stderr: a redrawn bar on a terminal, a few plain count lines otherwise. */
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

/**
 * Without a terminal, counts are printed only for jobs this large: small ones finish before
 * anyone reads a count, and a failure then leaves just its one `error:` line on stderr.
 */
export const PLAIN_PROGRESS_MIN = 10_000;

export function progress(label: string, cli: Cli): Progress {
  const stream = cli.io.stderr;
  const tty = stream.isTTY === true;
  let drawn = false;
  let lastDraw = 0;
  let lastStep = -1;
  return {
    update(done, total) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      if (tty) {
        const now = cli.now().getTime();
        if (done < total && now - lastDraw < 80) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(
          `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${done}/${total}`,
        );
        drawn = true;
        return;
      }
      if (total < PLAIN_PROGRESS_MIN) return;
      // One line per tenth at most, so a log file is not flooded.
      const step = Math.floor(fraction * 10);
      if (step === lastStep) return;
      lastStep = step;
      stream.write(`${label}: ${done}/${total}\n`);
    },
    finish() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
