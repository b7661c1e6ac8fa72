export { azureDescriptor } from './descriptor';
export type { ArmPermission } from './permissions';
export { actionMatches, isActionAllowed, OPTIONAL_ACTIONS, REQUIRED_ACTIONS } from './permissions';
export { provider as azureProvider } from './provider';
export { AZURE_AUDIENCE, AzureLinkMetadata } from './schemas';
