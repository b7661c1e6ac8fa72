import type { PatKind } from '@alphaswarm/contracts/kinds';
import type { Component } from 'svelte';
import type { Failure } from '$lib/failure';
import DockerHub from './DockerHub.svelte';
import HuggingFace from './HuggingFace.svelte';

/** What a PAT kind's form shows: the last failure (beside its field) and the non-secret values to put back. */
export interface StepProps {
  failure: Failure | null;
  values: Record<string, string>;
}

/** Each PAT kind's connect form: its instructions and inputs, named as the kind's connect input. */
export const steps = {
  huggingface: HuggingFace,
  docker_hub: DockerHub,
} satisfies Record<PatKind, Component<StepProps>>;
