import { cloudFacts } from '../shared/descriptor';

export const azureFacts = cloudFacts({
  kind: 'cloud_azure',
  label: 'Azure',
  secretBearing: false,
  secretParams: [],
  revocationGuidance:
    'In Microsoft Entra ID, delete the federated identity credential on the app registration (or the whole app registration) and remove its role assignments.',
  expiryField: null,
});
