import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { auditRouter } from './routers/audit';
import { authRouter } from './routers/auth';
import { cloudOnboardingRouter } from './routers/cloud-onboarding/_router';
import { credentialsRouter } from './routers/credentials';
import { handoffRouter } from './routers/handoff';
import { integrationsRouter } from './routers/integrations';
import { notificationsRouter } from './routers/notifications';
import { sessionsRouter } from './routers/sessions';
import { storeRouter } from './routers/store/_router';
import { systemRouter } from './routers/system';
import { createCallerFactory, router } from './trpc';

export const appRouter = router({
  integrations: integrationsRouter,
  notifications: notificationsRouter,
  credentials: credentialsRouter,
  cloudOnboarding: cloudOnboardingRouter,
  handoff: handoffRouter,
  audit: auditRouter,
  store: storeRouter,
  system: systemRouter,
  auth: authRouter,
  sessions: sessionsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** Calls procedures in-process through the same bases (auth, audit, errors) as HTTP: the REST routes use it. */
export const createCaller = createCallerFactory(appRouter);
