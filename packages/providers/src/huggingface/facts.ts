import { patFacts } from '../shared/descriptor';

export const huggingfaceFacts = patFacts({
  kind: 'huggingface',
  label: 'Hugging Face',
  secretParams: ['token'],
  revocationGuidance:
    'Revoke the token on Hugging Face: Settings → Access Tokens → find the token → Revoke (or Invalidate and refresh).',
  expiryField: 'expires_at',
});
