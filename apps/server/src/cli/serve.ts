import { once } from 'node:events';
import { createLogger, type Logger } from '../logger';
import { bootstrap } from '../runtime/index';
import { loadEnv } from './context';
import type { Cli } from './io';

/** Serve until the io's shutdown signal (SIGINT/SIGTERM for the bin), then stop gracefully. */
export async function serveCommand(cli: Cli): Promise<void> {
  const env = loadEnv(cli);
  const logger = createLogger(env.ALPHASWARM_ADMIN_LOG_LEVEL, cli.io.stdout);
  const boot = await bootstrap(env, logger, { now: () => cli.now() });
  // Loaded here only: the other commands must not pay for the whole HTTP stack.
  const { serve } = await import('../serve');
  const stopped = cli.io.shutdown?.() ?? new AbortController().signal;
  let serving: Awaited<ReturnType<typeof serve>>;
  try {
    serving = await serve(boot, logger, { now: () => cli.now() });
  } catch (error) {
    await boot.store.close();
    throw error;
  }
  warmCloudSdks(logger);
  if (!stopped.aborted) await once(stopped, 'abort');
  await serving.stop();
}

/** The cloud SDKs load once the server is ready, so that a start never waits for them. */
export function warmCloudSdks(logger: Logger): void {
  import('@alphaswarm/providers')
    .then(({ loadCloudSdks }) => loadCloudSdks())
    .catch((error: unknown) =>
      // A provider's first call loads its SDK again and reports what fails.
      logger.warn({ error_name: (error as Error).name }, 'cloud SDKs did not load ahead of use'),
    );
}
