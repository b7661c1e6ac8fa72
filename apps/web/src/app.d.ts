import type { Api } from '$lib/server/api';
import type { Session } from '$lib/server/session';

declare global {
  namespace App {
    interface Locals {
      /** The BFF session (server-side only; the browser holds just its id in an HttpOnly cookie). */
      session: Session | null;
      /** The admin API acting as this session's admin. */
      api: Api;
    }
    interface Error {
      message: string;
      code?: string;
    }
  }
}
