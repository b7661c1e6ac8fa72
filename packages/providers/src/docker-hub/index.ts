export { dockerHubDescriptor } from './descriptor';
export { dockerHubProvider } from './provider';
export { DockerHubLinkMetadata } from './schemas';
