import { HuggingFaceSecret } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import type { PatDescriptor } from '../shared/descriptor';
import { HuggingFaceConnectInput, HuggingFaceIssued } from './schemas';

export const huggingfaceDescriptor = {
  ...kinds.huggingface,
  inputSchema: HuggingFaceConnectInput,
  secretSchema: HuggingFaceSecret,
  issuedSchema: HuggingFaceIssued,
  example: { token: 'hf_x', namespace: 'acme' },
} satisfies PatDescriptor;
