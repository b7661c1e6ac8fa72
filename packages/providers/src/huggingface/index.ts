export { huggingfaceProvider } from './provider';
export { startHuggingFaceFake, hfProfile } from './fake';
export { HF_UNAUTHORIZED_BODIES } from './fake';
export type { HfProfileOptions, HfWhoAmIBody, HuggingFaceFake, HuggingFaceFakeKnobs, HuggingFaceFakeOptions } from './fake';
export { HuggingFaceLinkMetadata, WhoAmIV2Response } from './schemas';
