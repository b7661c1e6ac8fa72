import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Tests that touch a database run on both dialects: one project each, sharing the files. The
// PostgreSQL project starts one throwaway cluster for the run (test/postgres-setup.ts).
export default defineConfig({
  test: {
    // One module graph per worker: importing the router, the db and the providers again for every
    // file was about 40 % of this suite's CPU (24 s -> 15 s user + system without it).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['src/**/*.test.ts'], provide: { dialect: 'sqlite' } } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['src/router.test.ts'],
          globalSetup: ['test/postgres-setup.ts'],
          provide: { dialect: 'postgres' },
        },
      },
    ],
  },
});
