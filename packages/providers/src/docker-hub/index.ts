export { dockerHubDescriptor } from './descriptor';
export { provider as dockerHubProvider } from './provider';
export { DockerHubLinkMetadata } from './schemas';
