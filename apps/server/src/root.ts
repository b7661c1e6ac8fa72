import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { auditRouter } from './routers/audit';
import { cloudOnboardingRouter } from './routers/cloud-onboarding';
import { credentialsRouter } from './routers/credentials';
import { integrationsRouter } from './routers/integrations';
import { systemRouter } from './routers/system';
import { createCallerFactory, router } from './trpc';

export const appRouter = router({
  integrations: integrationsRouter,
  credentials: credentialsRouter,
  cloudOnboarding: cloudOnboardingRouter,
  audit: auditRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export const createCaller = createCallerFactory(appRouter);
