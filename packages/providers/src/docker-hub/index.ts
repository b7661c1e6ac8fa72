export { dockerHubProvider } from './provider';
export { startDockerHubFake } from './fake';
export type { DockerHubFake, DockerHubFakeKnobs, DockerHubFakeOptions, DockerHubFakeOrg, DockerHubFakeUser } from './fake';
export { DockerHubLinkMetadata } from './schemas';
