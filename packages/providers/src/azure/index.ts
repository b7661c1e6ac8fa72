export type { AzureFake, AzureFakeApp, AzureFakeKnobs, AzureFakeSubscription, AzureFakeTarget } from './fake';
export { startAzureFake } from './fake';
export type { ArmPermission } from './permissions';
export { actionMatches, isActionAllowed, OPTIONAL_ACTIONS, REQUIRED_ACTIONS } from './permissions';
export { AZURE_AUDIENCE, azureProvider } from './provider';
export { AzureLinkMetadata } from './schemas';
