import { CloudKind } from '@alphaswarm/contracts';
import { error } from '@sveltejs/kit';
import type { WizardSession } from '$lib/server/api';
import { loadFailed } from '$lib/server/pending';
import { orgParam } from '$lib/server/wizard';
import type { RequestHandler } from './$types';

// Served as inert text whatever the artifact is, so nothing downloaded here can run in this origin.
const SAFE_TYPES = new Set([
  'text/plain',
  'text/markdown',
  'application/json',
  'application/yaml',
  'text/yaml',
  'text/x-shellscript',
]);

/** Download one step-1 artifact of an onboarding session, as a file. */
export const GET: RequestHandler = async (event) => {
  const org_id = orgParam(event.params.org_id);
  const kind = CloudKind.safeParse(event.params.kind);
  const session_id = event.url.searchParams.get('session')?.slice(0, 64);
  const name = event.url.searchParams.get('name')?.slice(0, 128);
  if (!kind.success || !session_id || !name) error(404, { message: 'No such artifact.' });
  let session: WizardSession;
  try {
    session = await event.locals.api.cloudOnboarding.get.query({ session_id, org_id, kind: kind.data });
  } catch (e) {
    loadFailed(event, e);
  }
  const artifact = session.steps.bootstrap_artifacts?.result?.artifacts.find((a) => a.name === name);
  if (!artifact) error(404, { message: 'No such artifact; generate the artifacts (step 1) first.' });
  const type = SAFE_TYPES.has(artifact.media_type) ? artifact.media_type : 'text/plain';
  const filename = artifact.name.replace(/[^A-Za-z0-9._-]/g, '_');
  return new Response(artifact.content, {
    headers: {
      'content-type': `${type === 'application/json' ? type : 'text/plain'}; charset=utf-8`,
      'content-disposition': `attachment; filename="${filename}"`,
    },
  });
};
