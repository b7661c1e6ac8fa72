import { IntegrationKind, OrgId } from '@alphaswarm/contracts';
import { INTEGRATION_KINDS, kinds } from '@alphaswarm/contracts/kinds';
import { error, fail } from '@sveltejs/kit';
import { moment } from '$lib/server/format';
import { kindLabel, loadFailed, orgPath, perform } from '$lib/server/pending';
import { presentMetadata } from '$lib/server/present';
import { takeFlash } from '$lib/server/session';
import { dayTimeline } from '$lib/timeline';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const org = OrgId.safeParse(event.params.org_id);
  if (!org.success) error(404, { message: `“${event.params.org_id.slice(0, 80)}” is not a valid org_id.` });
  const flash = takeFlash(event.locals.session);
  const api = event.locals.api;
  // One batch, one round trip to the API: the links, the org's 90-day timeline (one read for every
  // link) and its unfinished cloud onboardings. Without the timeline the cards go without it;
  // without the onboardings no card is marked.
  const [list, days, sessions] = await event.locals.timing.measure('api', 'API batch', () =>
    Promise.all([
      api.integrations.list.query({ org_id: org.data }).catch((e: unknown) => loadFailed(event, e)),
      api.integrations.timeline.query({ org_id: org.data }).catch(() => null),
      api.cloudOnboarding.list.query({ org_id: org.data }).then(
        (r) => r.sessions,
        () => [],
      ),
    ]),
  );
  // Unfinished cloud onboardings, newest first: each marks its kind's card.
  const onboarding = new Map<string, string[]>();
  for (const s of sessions) onboarding.set(s.kind, [...(onboarding.get(s.kind) ?? []), s.session_id]);
  const now = Date.now();
  const base = `/orgs/${encodeURIComponent(org.data)}`;
  const cards = INTEGRATION_KINDS.map((kind) => {
    const link = list.integrations.find((i) => i.kind === kind) ?? null;
    const facts = kinds[kind];
    return {
      kind,
      label: facts.label,
      blurb: facts.summary,
      connect: `${base}/${facts.family === 'cloud' ? 'cloud' : 'connect'}/${kind}`,
      onboarding: onboardingMark(`${base}/cloud/${kind}`, onboarding.get(kind) ?? []),
      disconnect: `${base}/disconnect/${kind}`,
      rotatable: facts.rotatable,
      link: link && {
        status: link.status,
        namespace: link.namespace,
        credential_key: link.credential_key,
        connected: moment(link.connected_at, now),
        checked: moment(link.last_health_at, now),
        last_health_status: link.last_health_status,
        error: link.error,
        expires: moment(facts.expiresAt(link.metadata), now),
        timeline: days && dayTimeline(days, days.links.find((l) => l.kind === kind)?.days ?? []),
        meta: presentMetadata(link.metadata),
      },
    };
  });
  return {
    org_id: org.data,
    kinds: cards,
    linked: list.integrations.length,
    notice: flash.notice ?? null,
    failure: flash.failure ?? null,
  };
};

/** One open session: straight back into it; several: the list to pick one from. */
function onboardingMark(page: string, sessions: string[]) {
  if (sessions.length === 0) return null;
  const [only] = sessions;
  return {
    sessions: sessions.length,
    href: sessions.length === 1 && only ? `${page}?session=${encodeURIComponent(only)}` : page,
  };
}

function linkFrom(params: { org_id: string }, form: FormData) {
  const org = OrgId.safeParse(params.org_id);
  const kind = IntegrationKind.safeParse(form.get('kind'));
  return org.success && kind.success ? { org_id: org.data, kind: kind.data } : null;
}

export const actions: Actions = {
  check: async (event) => {
    const link = linkFrom(event.params, await event.request.formData());
    if (!link) return fail(400, { message: 'Unknown org or kind.' });
    return perform(event, {
      path: 'integrations.checkHealth',
      input: link,
      after: {
        label: `Re-check ${kindLabel(link.kind)} for ${link.org_id}`,
        origin: orgPath(link.org_id),
        location: `${orgPath(link.org_id)}#${link.kind}`,
      },
    });
  },
  /** Re-check every link of this org. */
  checkAll: async (event) => {
    const org = OrgId.safeParse(event.params.org_id);
    if (!org.success) return fail(400, { message: 'Unknown org.' });
    return perform(event, {
      path: 'integrations.checkHealthMany',
      input: { org_id: org.data },
      after: { label: `Re-check every link of ${org.data}`, origin: orgPath(org.data), location: orgPath(org.data) },
    });
  },
  rotate: async (event) => {
    const link = linkFrom(event.params, await event.request.formData());
    if (!link) return fail(400, { message: 'Unknown org or kind.' });
    return perform(event, {
      path: 'integrations.rotate',
      input: link,
      after: {
        label: `Rotate the ${kindLabel(link.kind)} token for ${link.org_id}`,
        origin: orgPath(link.org_id),
        location: `${orgPath(link.org_id)}#${link.kind}`,
        notice: `Rotated the ${kindLabel(link.kind)} token.`,
      },
    });
  },
};
