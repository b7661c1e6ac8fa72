import { isoNow, UnreadableExportError } from '@alphaswarm/db';
import { AppError } from '../../errors';
import { exportStoreFile } from '../../services/store';
import type { Context } from '../../trpc';
import type { ExportInput } from './store.schema';

/**
 * The JSON v1 store file as one string; secrets only as Fernet ciphertext under the current key.
 * Refused when a stored secret is readable by no configured key, unless `allow_unreadable`.
 */
export async function exportHandler(ctx: Context & { runId: string }, input: ExportInput) {
  const file = exportStoreFile(ctx, { allowUnreadable: input.allow_unreadable });
  let content = '';
  try {
    for await (const chunk of file.chunks) content += chunk;
  } catch (error) {
    if (error instanceof UnreadableExportError) throw unreadable(error);
    throw error;
  }
  const stamp = isoNow(ctx.now()).replace(/[:]/g, '');
  return {
    filename: `alphaswarm-integrations-${stamp}.json`,
    content,
    unreadable: file.unreadable,
    audit_run_id: ctx.runId,
  };
}

function unreadable(error: UnreadableExportError): AppError {
  const { items, fingerprints } = error;
  return new AppError(
    'secret_unreadable',
    `${items.length} stored secret${items.length === 1 ? '' : 's'} cannot be decrypted with the configured key${fingerprints.length === 1 ? '' : 's'} (fingerprint ${fingerprints.join(', ')}): ${items.slice(0, 10).join(', ')}${items.length > 10 ? ` and ${items.length - 10} more` : ''}; nothing was exported. Restore the key they were stored with in ALPHASWARM_ADMIN_INTEGRATIONS_KEY, or allow unreadable secrets to export them as they are.`,
    { field: 'allow_unreadable' },
  );
}
