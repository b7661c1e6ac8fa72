import type { LinkDraft, Warning } from '../types';

/** Anything to attend to degrades a link, and the first (most important) warning becomes its error. */
export function warningStatus(warnings: readonly Warning[]): { status: 'healthy' | 'degraded'; error: Warning | null } {
  return { status: warnings.length > 0 ? 'degraded' : 'healthy', error: warnings[0] ?? null };
}

/** The draft of a federated link: nothing secret stored, no expiry of its own, degraded by any warning. */
export function federatedDraft(namespace: string, metadata: object, warnings: Warning[]): LinkDraft<null> {
  return {
    namespace,
    metadata: metadata as Record<string, unknown>,
    secret: null,
    ...warningStatus(warnings),
    warnings,
    expires_at: null,
  };
}
