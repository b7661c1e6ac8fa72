/** Where sign-in.setup.ts leaves the signed-in browser state for the other specs (ignored by git). */
export const STORAGE_STATE = 'test-results/.auth/admin.json';
