export type {
  DockerHubFake,
  DockerHubFakeKnobs,
  DockerHubFakeOptions,
  DockerHubFakeOrg,
  DockerHubFakeUser,
} from './fake';
export { startDockerHubFake } from './fake';
export { dockerHubProvider } from './provider';
export { DockerHubLinkMetadata } from './schemas';
