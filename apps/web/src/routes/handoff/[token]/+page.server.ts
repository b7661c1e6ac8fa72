import type { CloudKind } from '@alphaswarm/contracts';
import { kinds } from '@alphaswarm/contracts/kinds';
import { fail } from '@sveltejs/kit';
import { formValues, IDENTITY_FIELDS, paramsFrom } from '$lib/cloud-params';
import { type Api, publicApi } from '$lib/server/api';
import { toFailure } from '$lib/server/errors';
import type { Actions, PageServerLoad } from './$types';

/*
 * The customer's cloud admin's page: no admin sign-in, the token in the path is the only key.
 * Every call goes through the API's public, token-gated `handoff` procedures with no bearer.
 */

const GONE_CODES = new Set(['not_found']);

export const load: PageServerLoad = async (event) => {
  try {
    const view = await publicApi(event.getClientAddress()).handoff.get.query({ token: event.params.token });
    const kind = view.kind as CloudKind;
    return {
      gone: false as const,
      view,
      fields: IDENTITY_FIELDS[kind],
      // What was entered before (by the customer or the operator) comes back, secrets excepted.
      values: formValues(kind, view.params),
      federated: !kinds[kind].secretBearing,
    };
  } catch (e) {
    const failure = toFailure(e);
    if (GONE_CODES.has(failure.code)) {
      event.setHeaders({ 'cache-control': 'no-store' });
      return { gone: true as const, failure: null };
    }
    return { gone: true as const, failure };
  }
};

async function kindOf(api: Api, token: string): Promise<CloudKind> {
  return (await api.handoff.get.query({ token })).kind as CloudKind;
}

export const actions: Actions = {
  submit: async (event) => {
    const api = publicApi(event.getClientAddress());
    const token = event.params.token;
    const form = await event.request.formData();
    let kind: CloudKind;
    try {
      kind = await kindOf(api, token);
    } catch (e) {
      const failure = toFailure(e);
      return fail(failure.status, { failure, values: {} });
    }
    const params = paramsFrom(kind, form);
    try {
      await api.handoff.submit.mutate({ token, params });
      return { submitted: true };
    } catch (e) {
      const failure = toFailure(e);
      // Secrets (a Cloudflare token) are never put back into the form.
      return fail(failure.status, { failure, values: formValues(kind, params) });
    }
  },
  /** Read-only: fetch the published issuer as the cloud will; audited as the share, like every call here. */
  verify: async (event) => {
    try {
      return {
        trust: await publicApi(event.getClientAddress()).handoff.verifyTrust.mutate({ token: event.params.token }),
      };
    } catch (e) {
      const failure = toFailure(e);
      return fail(failure.status, { failure, values: {} });
    }
  },
};
