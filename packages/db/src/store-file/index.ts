// The JSON store file: export (export.ts) written atomically (atomic-write.ts), validation before
// any import (validate.ts, reading large files record by record through json-scan.ts), and the
// all-or-nothing import (import.ts).
export { writeStoreFileAtomic } from './atomic-write';
export {
  type ExportSecretCheck,
  ImportConflictError,
  StoreFileError,
  type StoreFileProblem,
  type StoreFileProgress,
  UnreadableExportError,
} from './common';
export { exportStore, exportStoreChunks } from './export';
export { hasLinkHistory, type ImportOptions, type ImportResult, importStore } from './import';
export {
  formatStoreFileProblem,
  type SecretSchemas,
  type ValidatedStoreFile,
  type ValidateOptions,
  validateStoreFile,
} from './validate';
