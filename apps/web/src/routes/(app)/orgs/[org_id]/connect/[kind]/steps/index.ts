import { isIntegrationKind, isPatKind, PAT_KINDS, type PatKind } from '@alphaswarm/contracts/kinds';
import type { Component } from 'svelte';
import type { Failure } from '$lib/failure';

/** What a PAT kind's form shows: the last failure (beside its field) and the non-secret values to put back. */
export interface StepProps {
  failure: Failure | null;
  values: Record<string, string>;
}

// Each PAT kind's connect form is the file named after the kind (`<kind>.svelte`), found here
// rather than listed, so that adding a kind adds its file and touches nothing else.
const files = import.meta.glob<Component<StepProps>>('./*.svelte', { eager: true, import: 'default' });

/** Each PAT kind's connect form: its instructions and inputs, named as the kind's connect input. */
export const steps = {} as Record<PatKind, Component<StepProps>>;
for (const [file, component] of Object.entries(files)) {
  const kind = file.slice('./'.length, -'.svelte'.length);
  if (!isIntegrationKind(kind) || !isPatKind(kind)) throw new Error(`steps/${file}: no PAT kind is named so`);
  steps[kind] = component;
}
for (const kind of PAT_KINDS)
  if (!steps[kind]) throw new Error(`steps/${kind}.svelte: the ${kind} connect form is missing`);
