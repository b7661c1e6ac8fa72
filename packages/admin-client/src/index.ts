// @alphaswarm/admin-client: the typed client of the admin API for services outside this repository.
// Built into dist/ (ESM + one .d.ts with the router's types written out) by scripts/build.ts.
export {
  type AdminClientOptions,
  type AppRouter,
  createAdminClient,
  type RouterInputs,
  type RouterOutputs,
} from '@alphaswarm/api/client';
