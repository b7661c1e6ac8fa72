export { huggingfaceDescriptor } from './descriptor';
export { huggingfaceProvider } from './provider';
export { HuggingFaceLinkMetadata, WhoAmIV2Response } from './schemas';
