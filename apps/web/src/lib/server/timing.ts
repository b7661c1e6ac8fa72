/**
 * Where one request's server time went, for the `Server-Timing` header (DevTools shows it beside
 * the document's own timing): names and durations only, never a value from the request.
 */
export class ServerTiming {
  readonly #entries: { name: string; ms: number; desc: string }[] = [];

  /** Runs `work` and records how long it took, whether it succeeded or threw. */
  async measure<T>(name: string, desc: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.#entries.push({ name, ms: performance.now() - start, desc });
    }
  }

  header(): string {
    return this.#entries.map((e) => `${e.name};dur=${e.ms.toFixed(1)};desc="${e.desc}"`).join(', ');
  }
}
