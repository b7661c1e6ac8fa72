import type { LinkWrite } from '../repo/integrations';

/** A link as a test writes it: healthy, with no error, metadata, secret or expiry unless it says so. */
export function linkWrite(link: Pick<LinkWrite, 'orgId' | 'kind' | 'namespace'> & Partial<LinkWrite>): LinkWrite {
  return { status: 'healthy', error: null, metadata: {}, secret: null, expiresAt: null, ...link };
}
