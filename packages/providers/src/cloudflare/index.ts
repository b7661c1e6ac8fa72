export { cloudflareDescriptor } from './descriptor';
export type { PermissionGroupSpec } from './policies';
export { broadness, isGranted, PERMISSION_GROUPS } from './policies';
export { CLOUDFLARE_AUDIENCE, provider as cloudflareProvider } from './provider';
export { CloudflareLinkMetadata } from './schemas';
