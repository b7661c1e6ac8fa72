import { ConsoleSessionList, ConsoleSessionsInput, SignOutEverywhereResult } from '@alphaswarm/contracts';
import {
  deleteConsoleSessionsOf,
  listConsoleSessions,
  revokeRefreshSessionsOf,
  setTokensValidAfter,
} from '@alphaswarm/db';
import type { TRPCRouterRecord } from '@trpc/server';
import { adminProcedure, selfProcedure } from '../trpc';

/**
 * The signed-in admin's console sessions (the console keeps them in the `console_sessions` table;
 * their contents are sealed under the console's key, so the API sees only times and addresses).
 * Rows are named by the admin as the audit names them: `sub`, or `<iss>#<sub>` for SSO.
 */
export const sessionsRouter = {
  list: adminProcedure
    .meta({ reach: 'none' })
    .input(ConsoleSessionsInput)
    .output(ConsoleSessionList)
    .query(async ({ ctx, input }) => {
      const rows = await listConsoleSessions(ctx.db, ctx.principal.actor, ctx.now());
      return {
        sessions: rows.map((r) => ({
          created_at: r.createdAt,
          last_seen_at: r.lastSeenAt,
          expires_at: r.expiresAt,
          address: r.address,
          user_agent: r.userAgent,
          current: r.idHash === input.current,
        })),
      };
    }),

  /**
   * End every console session of the caller, and for an embedded-IdP admin also every refresh
   * token and every access token issued until now. An SSO admin's tokens belong to their IdP:
   * ending the console sessions is what this service can do (the IdP ends the rest).
   */
  signOutEverywhere: selfProcedure
    .meta({ reach: 'none' })
    .output(SignOutEverywhereResult)
    .mutation(async ({ ctx }) => {
      const { actor, sub } = ctx.principal;
      const embedded = actor === sub;
      const at = ctx.now().toISOString();
      const result = await ctx.db.write(async (tx) => {
        const consoleSessions = await deleteConsoleSessionsOf(tx, actor);
        if (!embedded || !(await setTokensValidAfter(tx, sub, at))) {
          return { console_sessions: consoleSessions, refresh_sessions: 0, tokens_valid_after: null };
        }
        const refreshSessions = await revokeRefreshSessionsOf(tx, sub, 'signed out everywhere', at);
        return { console_sessions: consoleSessions, refresh_sessions: refreshSessions, tokens_valid_after: at };
      });
      // Committed: this replica refuses the earlier tokens from the next call on, without waiting
      // for the database's announcement that reaches the other replicas.
      if (result.tokens_valid_after) ctx.verifier.signedOutEverywhere?.(sub);
      return result;
    }),
} satisfies TRPCRouterRecord;
