// Loopback fakes of every upstream, for tests and the sandbox.
export * from './testing/fake-server';
export * from './testing/subject-token';
export * from './testing/workload-issuer';
export * from './testing/context';
export { startHuggingFaceFake, hfProfile, type HuggingFaceFake } from './huggingface';
export { startDockerHubFake, type DockerHubFake } from './docker-hub';
export { startAzureFake, type AzureFake } from './azure';
export { startCloudflareFake, CF_GROUPS, type CloudflareFake } from './cloudflare';
export * from './testing/tls';
export { startAwsFake, type AwsFake } from './aws/fake';
export { AWS_OPTIONAL_ACTIONS, AWS_REQUIRED_ACTIONS } from './aws';
export { startGcpFake, type GcpFake } from './gcp/fake';
