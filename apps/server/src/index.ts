export { appRouter, createCaller, type AppRouter, type RouterInputs, type RouterOutputs } from './root';
export { createRuntime, providerContext, upstreamsFromEnv, type Runtime } from './runtime';
export { listen, createRequestListener, type RunningServer } from './http-server';
export { parseEnv, type Env, ConfigError } from './env';
export { createLogger } from './logger';
export { createContextInner } from './trpc';
export { runHealthSweep, startHealthSweeper } from './services/sweep';
