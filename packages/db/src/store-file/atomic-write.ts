import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StoreFileError } from './common';

type Content = string | Iterable<string> | AsyncIterable<string>;

/**
 * Write `content` to `path` so a reader sees the old file or the complete new one, never a part:
 * temp file in the same directory (mode 0600), fsync, rename over the target, fsync the directory.
 */
export async function writeStoreFileAtomic(path: string, content: Content): Promise<{ bytes: number }> {
  const target = resolve(path);
  const dir = dirname(target);
  checkTargetDirectory(dir);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o600);
  } catch (error) {
    throw new StoreFileError(`Cannot write into ${dir}: ${describeFsError(error)}.`);
  }
  let bytes = 0;
  try {
    let pending: string[] = [];
    let pendingLength = 0;
    const flush = () => {
      if (pendingLength === 0) return;
      const buffer = Buffer.from(pending.join(''), 'utf8');
      let offset = 0;
      while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
      bytes += buffer.length;
      pending = [];
      pendingLength = 0;
    };
    const chunks = typeof content === 'string' ? [content] : content;
    for await (const chunk of chunks) {
      pending.push(chunk);
      pendingLength += chunk.length;
      if (pendingLength >= 1 << 20) flush();
    }
    flush();
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(temp, target);
  } catch (error) {
    if (fd !== -1) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already renamed or never created
    }
    // Only file-system failures are about the target; anything else (the source) passes through.
    if (!(error as NodeJS.ErrnoException).syscall) throw error;
    throw new StoreFileError(`Cannot write ${target}: ${describeFsError(error)}.`);
  }
  syncDirectory(dir);
  return { bytes };
}

function checkTargetDirectory(dir: string): void {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StoreFileError(`Cannot write into ${dir}: the directory does not exist.`);
    if (code === 'ENOTDIR')
      throw new StoreFileError(`Cannot write into ${dir}: a parent of it is a file, not a directory.`);
    throw new StoreFileError(`Cannot write into ${dir}: ${describeFsError(error)}.`);
  }
  if (!stat.isDirectory()) throw new StoreFileError(`Cannot write into ${dir}: it is not a directory.`);
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (the directory is read-only for this user)';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ENOENT':
      return 'the directory does not exist or refuses new files';
    case 'ENOTDIR':
      return 'a parent of the path is a file, not a directory';
    case 'EISDIR':
      return 'the target is a directory';
    default:
      return e.code ? `${e.code}` : String(e.message ?? e);
  }
}
