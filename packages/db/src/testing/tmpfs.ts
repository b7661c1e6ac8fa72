// Real file-system faults for tests: a small tmpfs that can be filled to the last page, or
// remounted read-only. Needs root (CI and the dev machine run as root); elsewhere tests skip
// with the reason this gives, loudly, never silently.
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let probed: string | null | undefined;

/** Why a tmpfs cannot be mounted here (tried once), or null when it can. */
export function tmpfsUnavailable(): string | null {
  if (probed !== undefined) return probed;
  if (process.platform !== 'linux') probed = `tmpfs faults need Linux (this is ${process.platform})`;
  else if (process.getuid?.() !== 0)
    probed = 'mounting a tmpfs needs root; run the tests as root to exercise a full disk';
  else {
    try {
      mountTmpfs(64 << 10).unmount();
      probed = null;
    } catch (error) {
      probed = `mounting a tmpfs failed even as root (${(error as Error).message.split('\n')[0]})`;
    }
  }
  return probed;
}

export interface Tmpfs {
  dir: string;
  /** Fill every free page with a filler file. */
  fill(): void;
  /** Give back `bytes` of the filler (everything when omitted). */
  free(bytes?: number): void;
  /** Make the mount read-only (EROFS even for root), or writable again. */
  setReadOnly(readOnly: boolean): void;
  unmount(): void;
}

export function mountTmpfs(sizeBytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'alphaswarm-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const filler = join(dir, '.filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x5a);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free(bytes) {
      let size = 0;
      try {
        size = statSync(filler).size;
      } catch {
        return;
      }
      const fd = openSync(filler, 'r+');
      try {
        ftruncateSync(fd, bytes === undefined ? 0 : Math.max(0, size - bytes));
      } finally {
        closeSync(fd);
      }
    },
    setReadOnly(readOnly) {
      execFileSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, dir]);
    },
    unmount() {
      try {
        execFileSync('umount', [dir]);
      } catch {
        execFileSync('umount', ['-l', dir]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
