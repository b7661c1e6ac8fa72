import { HuggingFaceConnectInput, HuggingFaceSecret } from '@alphaswarm/contracts';
import type { Descriptor } from '../shared/descriptor';
import { huggingfaceFacts } from './facts';

export const huggingfaceDescriptor = {
  ...huggingfaceFacts,
  secretSchema: HuggingFaceSecret,
  inputSchema: HuggingFaceConnectInput,
} satisfies Descriptor<'huggingface'>;
