export { ConfigError, type Env, parseEnv } from './env';
export { createRequestListener, listen, type RunningServer } from './http-server';
export { createLogger } from './logger';
export { createRuntime, type Runtime, upstreamsFromEnv } from './runtime';
export { type Serving, serve } from './serve';
export { deliverDueAlerts, startAlertDispatcher } from './services/alerts';
export { runHealthSweep, startHealthSweeper } from './services/sweep';
export { startSweeper } from './services/sweep-jobs';
