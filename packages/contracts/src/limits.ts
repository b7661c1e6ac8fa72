/** The most calls one tRPC request may carry: the server refuses larger batches, the typed client splits them. */
export const TRPC_MAX_BATCH_SIZE = 16;
