type AsyncFunctionName<M> = {
  [P in keyof M]: M[P] extends (...args: never[]) => Promise<unknown> ? P : never;
}[keyof M];

/**
 * A module's async functions, the module loaded on the first call of any of them: a provider's
 * cloud SDK stays out of `serve` and every CLI command until a step of its kind runs.
 */
export function lazyModule<M>(load: () => Promise<M>): Pick<M, AsyncFunctionName<M>> {
  return new Proxy({} as Pick<M, AsyncFunctionName<M>>, {
    get:
      (_, name) =>
      async (...args: unknown[]) =>
        ((await load())[name as keyof M] as (...a: unknown[]) => Promise<unknown>)(...args),
  });
}
