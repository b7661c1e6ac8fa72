import type { Api } from '$lib/server/api';
import type { Session } from '$lib/server/session';
import type { ServerTiming } from '$lib/server/timing';

declare global {
  namespace App {
    interface Locals {
      /** The BFF session (server-side only; the browser holds just its id in an HttpOnly cookie). */
      session: Session | null;
      /** The admin API acting as this session's admin. */
      api: Api;
      /** This request's server time by step, sent as its `Server-Timing` header. */
      timing: ServerTiming;
    }
    interface Error {
      message: string;
      code?: string;
    }
  }
}
