export { huggingfaceDescriptor } from './descriptor';
export { provider as huggingfaceProvider } from './provider';
export { HuggingFaceLinkMetadata, WhoAmIV2Response } from './schemas';
