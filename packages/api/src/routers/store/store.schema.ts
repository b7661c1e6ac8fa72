import { documentText, OnConflict } from '@alphaswarm/contracts';
import { z } from 'zod';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The largest store file `store.import` accepts over the API; bigger stores go through the CLI. */
export const MAX_IMPORT_CHARS = 32 * MiB;

export const ExportInput = z
  .object({ allow_unreadable: z.boolean().default(false) })
  .default({ allow_unreadable: false });
export type ExportInput = z.infer<typeof ExportInput>;

export const ImportInput = z.object({
  content: documentText(MAX_IMPORT_CHARS, `files over ${MAX_IMPORT_CHARS / MiB} MiB: use the CLI import`),
  dry_run: z.boolean().default(true),
  on_conflict: OnConflict.default('fail'),
});
export type ImportInput = z.infer<typeof ImportInput>;
