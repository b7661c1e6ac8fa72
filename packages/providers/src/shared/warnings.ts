import type { Warning } from '../types';

/** Anything to attend to degrades a link, and the first (most important) warning becomes its error. */
export function warningStatus(warnings: readonly Warning[]): { status: 'healthy' | 'degraded'; error: Warning | null } {
  return { status: warnings.length > 0 ? 'degraded' : 'healthy', error: warnings[0] ?? null };
}
