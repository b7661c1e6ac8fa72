import type { CloudKind } from '@alphaswarm/contracts';
import { fail } from '@sveltejs/kit';
import { publicApi } from '$lib/server/api';
import { toFailure } from '$lib/server/errors';
import { IDENTITY_FIELDS, paramsFrom } from '../../(app)/orgs/[org_id]/cloud/[kind]/params';
import type { Actions, PageServerLoad } from './$types';

/*
 * The customer's cloud admin's page: no admin sign-in, the token in the path is the only key.
 * Every call goes through the API's public, token-gated `handoff` procedures with no bearer.
 */

const GONE_CODES = new Set(['not_found']);

export const load: PageServerLoad = async (event) => {
  try {
    const view = await publicApi(event.getClientAddress()).handoff.get.query({ token: event.params.token });
    return { gone: false as const, view, fields: IDENTITY_FIELDS[view.kind as CloudKind] };
  } catch (e) {
    const failure = toFailure(e);
    if (GONE_CODES.has(failure.code)) {
      event.setHeaders({ 'cache-control': 'no-store' });
      return { gone: true as const, failure: null };
    }
    return { gone: true as const, failure };
  }
};

export const actions: Actions = {
  submit: async (event) => {
    const api = publicApi(event.getClientAddress());
    const token = event.params.token;
    const form = await event.request.formData();
    let kind: CloudKind;
    try {
      kind = (await api.handoff.get.query({ token })).kind as CloudKind;
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
      const secret = new Set(IDENTITY_FIELDS[kind].filter((f) => f.type === 'password').map((f) => f.name));
      const values = Object.fromEntries(
        Object.entries(params)
          .filter(([k, v]) => !secret.has(k) && v !== undefined)
          .map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
      );
      return fail(failure.status, { failure, values });
    }
  },
};
