// What writeStoreFileAtomic leaves behind when the file system says no (the rest of its rules are
// in io.test.ts, the spec of the mutation module store-file-io).
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeStoreFileAtomic } from './atomic-write';
import { StoreFileError } from './common';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const openFiles = () => readdirSync('/proc/self/fd').length;

describe('writeStoreFileAtomic when it cannot finish', () => {
  it('leaves no file descriptor open, whether it succeeds or the source or the rename fails', async () => {
    const before = openFiles();
    await writeStoreFileAtomic(join(dir, 'ok.json'), 'x');
    expect(openFiles()).toBe(before);
    rmSync(join(dir, 'ok.json'));
    async function* failing() {
      yield 'x';
      throw new Error('the source broke');
    }
    await expect(writeStoreFileAtomic(join(dir, 'f.json'), failing())).rejects.toThrow('the source broke');
    await expect(writeStoreFileAtomic(dir, 'x')).rejects.toBeInstanceOf(StoreFileError);
    expect(openFiles()).toBe(before);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names a directory that refuses new files, and one that cannot even be looked up', async () => {
    await expect(writeStoreFileAtomic('/proc/alphaswarm-export.json', 'x')).rejects.toThrow(
      new StoreFileError('Cannot write into /proc: the directory does not exist or refuses new files.'),
    );
    const loop = join(dir, 'loop');
    symlinkSync(loop, loop);
    await expect(writeStoreFileAtomic(join(loop, 'x.json'), 'x')).rejects.toThrow(
      new StoreFileError(`Cannot write into ${loop}: ELOOP.`),
    );
  });
});
