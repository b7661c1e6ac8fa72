// Loopback fakes of every upstream, for tests and the sandbox.

export { AWS_OPTIONAL_ACTIONS, AWS_REQUIRED_ACTIONS } from './aws';
export { type AwsFake, startAwsFake } from './aws/fake';
export { type AzureFake, startAzureFake } from './azure';
export { CF_GROUPS, type CloudflareFake, startCloudflareFake } from './cloudflare';
export { type DockerHubFake, startDockerHubFake } from './docker-hub';
export { type GcpFake, startGcpFake } from './gcp/fake';
export { type HuggingFaceFake, hfProfile, startHuggingFaceFake } from './huggingface';
export * from './testing/context';
export * from './testing/fake-server';
export * from './testing/subject-token';
export * from './testing/tls';
export * from './testing/workload-issuer';
