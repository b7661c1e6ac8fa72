import { ALERT_TYPES } from '@alphaswarm/contracts';
import { fail } from '@sveltejs/kit';
import { loadFailed, perform } from '$lib/server/pending';
import { takeFlash } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

const ENDPOINT_ID = /^(ep_[0-9a-f]{16}|env)$/;
const DELIVERY_ID = /^msg_[0-9a-f]{32}$/;

export const load: PageServerLoad = async (event) => {
  const flash = takeFlash(event.locals.session);
  try {
    const [{ endpoints, env_endpoint }, { deliveries }] = await Promise.all([
      event.locals.api.notifications.list.query(),
      event.locals.api.notifications.deliveries.query({ limit: 50 }),
    ]);
    return {
      endpoints,
      env_endpoint,
      deliveries,
      alertTypes: ALERT_TYPES,
      notice: flash.notice ?? null,
      failure: flash.failure?.failure ?? null,
      values: flash.failure?.values ?? null,
      secret: flash.endpointSecret ?? null,
    };
  } catch (e) {
    loadFailed(event, e);
  }
};

function invalidInput(field: string, message: string, values: Record<string, string> = {}) {
  return fail(400, { failure: { code: 'invalid_request', message, field, upstream: null, status: 400 }, values });
}

/** An id from a button's hidden field, checked before it reaches the API. */
async function idFrom(request: Request, pattern: RegExp): Promise<string | null> {
  const id = String((await request.formData()).get('id') ?? '');
  return pattern.test(id) ? id : null;
}

export const actions: Actions = {
  create: async (event) => {
    const form = await event.request.formData();
    const name = String(form.get('name') ?? '').trim();
    const endpoint_type = form.get('type') === 'slack' ? 'slack' : 'webhook';
    const url = String(form.get('url') ?? '').trim();
    const event_types = form
      .getAll('event_types')
      .map(String)
      .filter((t) => (ALERT_TYPES as readonly string[]).includes(t));
    const values = { name, type: endpoint_type, event_types: event_types.join(', ') };
    if (!name) return invalidInput('name', 'Give the endpoint a name.', values);
    if (!/^https?:\/\/./.test(url)) {
      return invalidInput(
        'url',
        'Enter the receiver’s URL, starting with https:// (or http:// on a private network).',
        values,
      );
    }
    return perform(event, {
      path: 'notifications.create',
      input: { name, type: endpoint_type, url, event_types },
      after: { label: `Add the notification endpoint ${name}`, origin: '/notifications', location: '/notifications' },
    });
  },
  test: async (event) => {
    const id = await idFrom(event.request, ENDPOINT_ID);
    if (!id) return invalidInput('id', 'Unknown endpoint.');
    return perform(event, {
      path: 'notifications.test',
      input: { id },
      after: { label: `Send a test alert to ${id}`, origin: '/notifications', location: '/notifications#deliveries' },
    });
  },
  delete: async (event) => {
    const form = await event.request.formData();
    const id = String(form.get('id') ?? '');
    if (!ENDPOINT_ID.test(id) || id === 'env') return invalidInput('id', 'Unknown endpoint.');
    const name = String(form.get('name') ?? id).slice(0, 80);
    return perform(event, {
      path: 'notifications.delete',
      input: { id },
      after: {
        label: `Delete the notification endpoint ${name}`,
        origin: '/notifications',
        location: '/notifications',
        notice: `Deleted ${name} (${id}); its undelivered alerts went with it.`,
      },
    });
  },
  redeliver: async (event) => {
    const id = await idFrom(event.request, DELIVERY_ID);
    if (!id) return invalidInput('id', 'Unknown delivery.');
    return perform(event, {
      path: 'notifications.redeliver',
      input: { id },
      after: {
        label: `Redeliver ${id}`,
        origin: '/notifications',
        location: '/notifications#deliveries',
        notice: `Redelivering ${id} (same id and body).`,
      },
    });
  },
};
