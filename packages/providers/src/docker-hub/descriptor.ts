import { DockerHubSecret } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import type { PatDescriptor } from '../shared/descriptor';
import { DockerHubConnectInput, DockerHubIssued } from './schemas';

export const dockerHubDescriptor = {
  ...kinds.docker_hub,
  inputSchema: DockerHubConnectInput,
  secretSchema: DockerHubSecret,
  issuedSchema: DockerHubIssued,
  example: { username: 'demo', pat: 'dckr_pat_x', namespace: 'demo' },
} satisfies PatDescriptor;
