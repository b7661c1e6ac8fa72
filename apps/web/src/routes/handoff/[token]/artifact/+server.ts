import { error } from '@sveltejs/kit';
import { publicApi } from '$lib/server/api';
import type { RequestHandler } from './$types';

/** Download one artifact of the shared session, as inert text (see the operator's artifact route). */
export const GET: RequestHandler = async (event) => {
  const name = event.url.searchParams.get('name')?.slice(0, 128);
  if (!name) error(404, { message: 'No such artifact.' });
  let view: Awaited<ReturnType<ReturnType<typeof publicApi>['handoff']['get']['query']>>;
  try {
    view = await publicApi(event.getClientAddress()).handoff.get.query({ token: event.params.token });
  } catch {
    error(404, { message: 'This link has expired or was revoked.' });
  }
  const artifact = view.artifacts?.artifacts.find((a) => a.name === name);
  if (!artifact) error(404, { message: 'No such artifact.' });
  const filename = artifact.name.replace(/[^A-Za-z0-9._-]/g, '_');
  return new Response(artifact.content, {
    headers: {
      'content-type': `${artifact.media_type === 'application/json' ? 'application/json' : 'text/plain'}; charset=utf-8`,
      'content-disposition': `attachment; filename="${filename}"`,
      'x-robots-tag': 'noindex, nofollow',
    },
  });
};
