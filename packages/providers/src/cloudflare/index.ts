export type { CloudflareFake, CloudflareFakeKnobs, CloudflareFakePolicy, CloudflareFakeToken } from './fake';
export { CF_GROUPS, startCloudflareFake } from './fake';
export type { PermissionGroupSpec } from './policies';
export { broadness, isGranted, PERMISSION_GROUPS } from './policies';
export { CLOUDFLARE_AUDIENCE, cloudflareProvider } from './provider';
export { CloudflareLinkMetadata } from './schemas';
