import { documentText, OnConflict } from '@alphaswarm/contracts';
import {
  countLinks,
  exportStoreChunks,
  ImportConflictError,
  importStore,
  isoNow,
  UnreadableExportError,
  validateStoreFile,
} from '@alphaswarm/db';
import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors';
import { MAX_IMPORT_CHARS } from '../http-body';
import { productionProblems } from '../runtime/production';
import { adminProcedure, stepUpProcedure } from '../trpc';

export const storeRouter = {
  status: adminProcedure.query(async ({ ctx }) => ({
    fingerprints: ctx.rt.keyring.fingerprints(),
    ephemeral: ctx.rt.ephemeralKey,
    production_problems: productionProblems(ctx.rt.env, {
      keyring: ctx.rt.keyring,
      ephemeral: ctx.rt.ephemeralKey,
      fingerprints: ctx.rt.keyring.fingerprints(),
      warning: null,
    }),
    links: await countLinks(ctx.rt.store.db),
  })),

  /**
   * The JSON v1 store file; secrets only as Fernet ciphertext under the current key. Refused when
   * a stored secret is readable by no configured key, unless `allow_unreadable`.
   */
  export: stepUpProcedure
    .input(z.object({ allow_unreadable: z.boolean().default(false) }).default({ allow_unreadable: false }))
    .mutation(async ({ ctx, input }) => {
      let content = '';
      let unreadable = 0;
      try {
        const chunks = exportStoreChunks(ctx.rt.store.db, {
          now: ctx.rt.now(),
          secrets: {
            keyring: ctx.rt.keyring,
            allowUnreadable: input.allow_unreadable,
            onUnreadable: () => unreadable++,
          },
        });
        for await (const chunk of chunks) content += chunk;
      } catch (error) {
        if (error instanceof UnreadableExportError) {
          throw new AppError(
            'secret_unreadable',
            `${error.items.length} stored secret${error.items.length === 1 ? '' : 's'} cannot be decrypted with the configured key${error.fingerprints.length === 1 ? '' : 's'} (fingerprint ${error.fingerprints.join(', ')}): ${error.items.slice(0, 10).join(', ')}${error.items.length > 10 ? ` and ${error.items.length - 10} more` : ''}; nothing was exported. Restore the key they were stored with in ALPHASWARM_ADMIN_INTEGRATIONS_KEY, or allow unreadable secrets to export them as they are.`,
            { field: 'allow_unreadable' },
          );
        }
        throw error;
      }
      const stamp = isoNow(ctx.rt.now()).replace(/[:]/g, '');
      return {
        filename: `alphaswarm-integrations-${stamp}.json`,
        content,
        unreadable,
        audit_run_id: ctx.runId,
      };
    }),

  /** Validate the whole file first; then write everything in one transaction, or nothing. */
  import: stepUpProcedure
    .input(
      z.object({
        content: documentText(MAX_IMPORT_CHARS, `files over ${MAX_IMPORT_CHARS / 1024 / 1024} MiB: use the CLI import`),
        dry_run: z.boolean().default(true),
        on_conflict: OnConflict.default('fail'),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const checked = validateStoreFile(input.content, ctx.rt.keyring);
      const base = {
        dry_run: input.dry_run,
        inserted: 0,
        replaced: 0,
        skipped: 0,
        conflicts: [] as string[],
        audit_run_id: ctx.runId,
      };
      if (!checked.ok) return { ok: false, ...base, problems: checked.problems };
      try {
        const result = await importStore(ctx.rt.store.db, checked.records, {
          keyring: ctx.rt.keyring,
          onConflict: input.on_conflict,
          dryRun: input.dry_run,
          now: ctx.rt.now(),
        });
        return { ok: true, ...base, ...result, dry_run: result.dryRun, problems: [] };
      } catch (error) {
        if (error instanceof ImportConflictError) {
          return {
            ok: false,
            ...base,
            conflicts: error.conflicts,
            problems: [{ index: null, field: 'integrations', message: error.message }],
          };
        }
        throw error;
      }
    }),
} satisfies TRPCRouterRecord;
