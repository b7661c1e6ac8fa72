export { ConfigError, type Env, parseEnv } from './env';
export { createRequestListener, listen, type RunningServer } from './http-server';
export { createLogger } from './logger';
export { type AppRouter, appRouter, createCaller, type RouterInputs, type RouterOutputs } from './root';
export { createRuntime, providerContext, type Runtime, upstreamsFromEnv } from './runtime';
export { runHealthSweep, startHealthSweeper } from './services/sweep';
export { createContextInner } from './trpc';
