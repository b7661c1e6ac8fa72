import { patFacts } from './facts';

export const dockerHub = patFacts({
  kind: 'docker_hub',
  label: 'Docker Hub',
  mark: 'DH',
  summary: 'Push and pull images with a personal access token.',
  connectProcedure: 'dockerHub',
  // The REST route existing callers use: POST /admin/accounts/{org}/integrations/dockerhub.
  restAliases: ['dockerhub'],
  secretParams: ['pat'],
  revocationGuidance:
    'Delete the personal access token on Docker Hub: Account settings → Personal access tokens → select it → Delete.',
  // Docker Hub's login answers do not say when a PAT expires; the field stays null until one does.
  expiryField: 'token_expires_at',
});
