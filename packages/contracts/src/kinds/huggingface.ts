import { patFacts } from './facts';

export const huggingface = patFacts({
  kind: 'huggingface',
  label: 'Hugging Face',
  mark: 'HF',
  summary: 'Pull models and datasets with a fine-grained access token.',
  connectProcedure: 'huggingface',
  secretParams: ['token'],
  revocationGuidance:
    'Revoke the token on Hugging Face: Settings → Access Tokens → find the token → Revoke (or Invalidate and refresh).',
  expiryField: 'expires_at',
});
