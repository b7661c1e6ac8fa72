import type { SubmitFunction } from '@sveltejs/kit';

/** The action waiting for a step-up, as the dialog describes it; null when the dialog is closed. */
export const stepUp = $state<{ label: string | null }>({ label: null });

/**
 * `use:enhance` for forms whose action may need a fresh MFA: the server answers 401 with
 * `step_up` (it keeps the action), and the dialog asks for a code and replays it. Without
 * JavaScript the same action redirects to the /step-up page instead. `busy` tracks the request.
 */
export function withStepUp(busy?: (pending: boolean) => void): SubmitFunction {
  return () => {
    busy?.(true);
    return async ({ result, update }) => {
      busy?.(false);
      if (result.type === 'failure' && typeof result.data?.step_up === 'string') {
        stepUp.label = result.data.step_up;
        return;
      }
      await update({ reset: false });
    };
  };
}
