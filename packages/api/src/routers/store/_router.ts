import type { TRPCRouterRecord } from '@trpc/server';
import { importStoreFile, storeStatus } from '../../services/store';
import { adminProcedure, stepUpProcedure } from '../../trpc';
import { exportHandler } from './export.handler';
import { ExportInput, ImportInput } from './store.schema';

export const storeRouter = {
  status: adminProcedure.query(({ ctx }) => storeStatus(ctx)),

  export: stepUpProcedure.input(ExportInput).mutation(({ ctx, input }) => exportHandler(ctx, input)),

  /** Validate the whole file first; then write everything in one transaction, or nothing. */
  import: stepUpProcedure.input(ImportInput).mutation(async ({ ctx, input }) => ({
    ...(await importStoreFile(ctx, input.content, { dryRun: input.dry_run, onConflict: input.on_conflict })),
    audit_run_id: ctx.runId,
  })),
} satisfies TRPCRouterRecord;
