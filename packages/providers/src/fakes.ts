// Loopback fakes of every upstream, for tests, the sandbox and the benches. Production code never
// imports this entry (`@alphaswarm/providers/fakes`); a test checks that '.' cannot reach it.

export { AWS_OPTIONAL_ACTIONS, AWS_REQUIRED_ACTIONS } from './aws';
export type { AwsFake, AwsFakeKnobs, AwsFakeRegion, AwsFakeRole } from './aws/fake';
export { startAwsFake } from './aws/fake';
export type { AzureFake, AzureFakeApp, AzureFakeKnobs, AzureFakeSubscription, AzureFakeTarget } from './azure/fake';
export { startAzureFake } from './azure/fake';
export type { CloudflareFake, CloudflareFakeKnobs, CloudflareFakePolicy, CloudflareFakeToken } from './cloudflare/fake';
export { CF_GROUPS, startCloudflareFake } from './cloudflare/fake';
export type {
  DockerHubFake,
  DockerHubFakeKnobs,
  DockerHubFakeOptions,
  DockerHubFakeOrg,
  DockerHubFakeUser,
} from './docker-hub/fake';
export { startDockerHubFake } from './docker-hub/fake';
export type { GcpFake, GcpFakeKnobs } from './gcp/fake';
export { startGcpFake } from './gcp/fake';
export type {
  HfProfileOptions,
  HfWhoAmIBody,
  HuggingFaceFake,
  HuggingFaceFakeKnobs,
  HuggingFaceFakeOptions,
} from './huggingface/fake';
export { HF_UNAUTHORIZED_BODIES, hfProfile, startHuggingFaceFake } from './huggingface/fake';
export * from './testing/context';
export * from './testing/fake-server';
export * from './testing/subject-token';
export * from './testing/tls';
export * from './testing/workload-issuer';
