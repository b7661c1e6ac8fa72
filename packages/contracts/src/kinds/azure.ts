import { cloudFacts } from './facts';

export const azure = cloudFacts({
  kind: 'cloud_azure',
  label: 'Azure',
  mark: 'AZ',
  summary: 'An app registration with a federated credential trusting our issuer. Nothing secret is stored.',
  secretBearing: false,
  secretParams: [],
  revocationGuidance:
    'In Microsoft Entra ID, delete the federated identity credential on the app registration (or the whole app registration) and remove its role assignments.',
  expiryField: null,
});
