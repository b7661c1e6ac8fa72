import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Every test that touches a database runs on both dialects: one project each, sharing the files.
// The PostgreSQL project starts one throwaway cluster for the run (test/postgres-setup.ts).
export default defineConfig({
  test: {
    // Files wait on loopback fakes, SQLite and Python more than they compute: two at a time even
    // on two cores; and one module graph per worker, since importing it again for every file cost
    // more than most files' tests.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/postgres.test.ts'],
          provide: { dialect: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          // No database in these: once is enough.
          exclude: [
            'src/crypto/**',
            'src/schema/**',
            'src/store-file/validate.test.ts',
            // What a file system does to a SQLite file.
            'src/durability.test.ts',
            'src/read-only.test.ts',
            'test/sqlite.test.ts',
            // Written against one SQLite file (raw-driver tampering); its PostgreSQL twin is still
            // to come (docs/mutation.md).
            'src/audit.test.ts',
          ],
          globalSetup: ['test/postgres-setup.ts'],
          provide: { dialect: 'postgres' },
        },
      },
    ],
  },
});
