import type { AppRouter, RouterInputs, RouterOutputs } from '@alphaswarm/api';
import type { Api } from './api';

/*
 * A pending action is a call of one of the API's mutations, named by its procedure path and typed
 * by the router: `{path: 'integrations.disconnect', input: {org_id, kind}}` compiles only with
 * that procedure's input. Beside it, `after`: what only the console knows (what the step-up dialog
 * says, where a failure is shown, where to go after).
 */

/** `router.procedure` for every mutation of the API (queries change nothing, so never wait for a step-up). */
type MutationPaths<R, Prefix extends string = ''> = {
  [K in keyof R & string]: R[K] extends { _def: { procedure: true; type: infer T } }
    ? T extends 'mutation'
      ? `${Prefix}${K}`
      : never
    : MutationPaths<R[K], `${Prefix}${K}.`>;
}[keyof R & string];

export type ProcedurePath = MutationPaths<AppRouter['_def']['record']>;

type At<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? At<T[Head], Rest>
    : never
  : P extends keyof T
    ? T[P]
    : never;

export type InputOf<P extends ProcedurePath> = At<RouterInputs, P>;
export type OutputOf<P extends ProcedurePath> = At<RouterOutputs, P>;

/** What the console does around the call: plain data, chosen by the form that started it. */
export interface After {
  /** What the step-up dialog says it is about to do. */
  label: string;
  /** The page of the form that started it: where a failure of its replay is shown. */
  origin: string;
  /** Where the admin goes once it succeeded (a path's follow-up may refine it from the result). */
  location: string;
  /** Shown on the next page once it succeeded, linked to the call's audit run when it has one. */
  notice?: string;
  /** The form field a failure code concerns when the API names none (e.g. a rejected credential → the secret's field). */
  fields?: Record<string, string>;
  /** The uploaded file's name, shown with an import's report. */
  filename?: string;
}

/** One call of the procedure at `P` with its input. */
export type Call<P extends ProcedurePath = ProcedurePath> = P extends ProcedurePath
  ? { path: P; input: InputOf<P>; after: After }
  : never;

/**
 * Nothing to call: the action waits for the step-up only and then sends the admin back to
 * `after.location` (a passkey enrolment is a ceremony between the browser and its authenticator,
 * which the server cannot replay: the admin starts it again, now stepped up).
 */
export interface StepUpOnly {
  path: null;
  after: After;
}

export type PendingAction = Call | StepUpOnly;

/**
 * Whether a value read back from a sealed session is a pending action of this shape. A session
 * written by an older console holds another shape (`{type: …}`): it is treated as expired, and the
 * admin submits the form again.
 */
export function isPendingAction(value: unknown): value is PendingAction {
  if (!value || typeof value !== 'object') return false;
  const { path, after } = value as { path?: unknown; after?: Partial<Record<keyof After, unknown>> };
  const callable = path === null || (typeof path === 'string' && /^\w+(\.\w+)+$/.test(path));
  return (
    callable &&
    !!after &&
    typeof after === 'object' &&
    typeof after.label === 'string' &&
    typeof after.origin === 'string' &&
    typeof after.location === 'string'
  );
}

/** Call the procedure at `path` through the console's client (its proxy resolves any path). */
export function call<P extends ProcedurePath>(api: Api, path: P, input: InputOf<P>): Promise<OutputOf<P>> {
  let node: unknown = api;
  for (const key of path.split('.')) node = (node as Record<string, unknown>)[key];
  return (node as { mutate(input: unknown): Promise<OutputOf<P>> }).mutate(input);
}
