export {
  attributeCondition,
  federatedPrincipal,
  gcpExternalAccount,
  gcpGcloudScript,
  gcpTerraform,
  parseProviderName,
} from './artifacts';
export { gcpDescriptor } from './descriptor';
export { provider as gcpProvider } from './provider';
export { GCP_OPTIONAL_PERMISSIONS, GCP_REQUIRED_PERMISSIONS, GcpLinkMetadata, gcpAudience } from './schemas';
