import { patFacts } from '../shared/descriptor';

export const dockerHubFacts = patFacts({
  kind: 'docker_hub',
  label: 'Docker Hub',
  secretParams: ['pat'],
  revocationGuidance:
    'Delete the personal access token on Docker Hub: Account settings → Personal access tokens → select it → Delete.',
  // Docker Hub's login answers do not say when a PAT expires; the field stays null until one does.
  expiryField: 'token_expires_at',
});
