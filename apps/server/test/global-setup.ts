import { buildServer, staleSource } from '../build.mjs';

/** The subprocess tests run the compiled bin: compile it first when a source changed since the last build. */
export default async function setup(): Promise<void> {
  if (staleSource()) await buildServer();
}
