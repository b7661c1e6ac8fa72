import { once } from 'node:events';
import { createLogger, type Logger } from '../logger';
import { bootstrap, startAuditRecovery } from '../runtime/index';
import { loadEnv } from './context';
import type { Cli } from './io';

/** Serve until the io's shutdown signal (SIGINT/SIGTERM for the bin), then close everything in order. */
export async function serveCommand(cli: Cli): Promise<void> {
  const env = loadEnv(cli);
  const logger = createLogger(env.ALPHASWARM_ADMIN_LOG_LEVEL, cli.io.stdout);
  const boot = await bootstrap(env, logger, { now: () => cli.now() });
  // Loaded here only: the other commands must not pay for the whole HTTP stack.
  const { createRuntime, listen, startHealthSweeper } = await import('../index');
  const runtime = createRuntime({ ...boot, logger, now: () => cli.now() });
  const stopped = cli.io.shutdown?.() ?? new AbortController().signal;
  try {
    const running = await listen(runtime);
    const sweeper = startHealthSweeper(runtime);
    const recovery = startAuditRecovery(runtime);
    logger.info({ url: running.url, workload_issuer: runtime.workload.issuer }, 'listening');
    warmCloudSdks(logger);
    if (!stopped.aborted) await once(stopped, 'abort');
    await sweeper.stop();
    await running.close();
    await recovery.stop();
  } finally {
    await runtime.http.close();
    boot.store.close();
  }
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
