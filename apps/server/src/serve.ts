import { startAuditRecovery } from '@alphaswarm/api';
import type { UpstreamConfig } from '@alphaswarm/providers';
import { startAuditServices } from './audit/stream';
import { listen } from './http-server';
import type { Logger } from './logger';
import { createRuntime, type Runtime } from './runtime';
import type { Bootstrapped } from './runtime/bootstrap';
import { startAlertDispatcher } from './services/alerts';
import { startSweeper } from './services/sweep-jobs';

export interface Serving {
  url: string;
  runtime: Runtime;
  /**
   * Graceful stop (SIGTERM): the sweep is aborted (on PostgreSQL its batches go back to the job
   * queue for the other replicas; alone, its links are left to the next sweep), no new
   * connection is accepted, requests in flight get ALPHASWARM_ADMIN_SHUTDOWN_GRACE seconds to
   * finish, then the rest are cut and the database pool is closed.
   */
  stop(): Promise<void>;
}

/**
 * What `alphaswarm-admin serve` runs once the database is open: HTTP, the health sweep, alert
 * delivery, audit recovery, and the audit checkpointer, retention and sink streaming.
 */
export async function serve(
  boot: Bootstrapped,
  logger: Logger,
  opts: { host?: string; port?: number; upstreams?: UpstreamConfig; now?: () => Date } = {},
): Promise<Serving> {
  const runtime = createRuntime({
    ...boot,
    logger,
    ...(opts.upstreams ? { upstreams: opts.upstreams } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  // On PostgreSQL the sweep's job queue is shared by every replica; start it before accepting.
  const sweeper = await startSweeper(runtime);
  const running = await listen(runtime, {
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
  });
  const alerts = startAlertDispatcher(runtime);
  const recovery = startAuditRecovery(runtime);
  const audit = startAuditServices(runtime);
  logger.info({ url: running.url, workload_issuer: runtime.workload.issuer }, 'listening');
  let stopping: Promise<void> | null = null;
  const stop = async () => {
    logger.info({}, 'stopping: draining requests in flight');
    // Releasing the sweep's jobs takes a few queries: new connections are refused meanwhile.
    const background = Promise.all([sweeper.stop(), alerts.stop()]);
    const { cut } = await running.close(boot.env.ALPHASWARM_ADMIN_SHUTDOWN_GRACE * 1000);
    await background;
    if (cut > 0) logger.warn({ cut }, `${cut} request(s) still running after the shutdown grace were cut`);
    await recovery.stop();
    await audit.stop();
    await runtime.http.close();
    await boot.store.close();
    logger.info({}, 'stopped');
  };
  return {
    url: running.url,
    runtime,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
