export type {
  HfProfileOptions,
  HfWhoAmIBody,
  HuggingFaceFake,
  HuggingFaceFakeKnobs,
  HuggingFaceFakeOptions,
} from './fake';
export { HF_UNAUTHORIZED_BODIES, hfProfile, startHuggingFaceFake } from './fake';
export { huggingfaceProvider } from './provider';
export { HuggingFaceLinkMetadata, WhoAmIV2Response } from './schemas';
