import { DockerHubConnectInput, DockerHubSecret } from '@alphaswarm/contracts';
import type { Descriptor } from '../shared/descriptor';
import { dockerHubFacts } from './facts';

export const dockerHubDescriptor = {
  ...dockerHubFacts,
  secretSchema: DockerHubSecret,
  inputSchema: DockerHubConnectInput,
} satisfies Descriptor<'docker_hub'>;
