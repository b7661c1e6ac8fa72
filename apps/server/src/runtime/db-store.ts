// The store-file and rotation modules of @alphaswarm/db are not re-exported by its index yet
// (packages/db/src/index.ts belongs to another change); import them through this one file so the
// switch to `from '@alphaswarm/db'` is a one-line edit.
export * from '../../../../packages/db/src/store-file';
export * from '../../../../packages/db/src/rotation';
