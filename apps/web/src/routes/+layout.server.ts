import { publicApi } from '$lib/server/api';
import type { LayoutServerLoad } from './$types';

let cached: { at: number; sandbox: boolean; environment: string } | null = null;

/** Whether the API runs as the sandbox (the banner); re-asked at most once a minute. */
async function systemInfo() {
  if (cached && Date.now() - cached.at < 60_000) return cached;
  try {
    const info = await publicApi(null).system.info.query();
    cached = { at: Date.now(), sandbox: info.sandbox, environment: info.environment };
  } catch {
    return { at: 0, sandbox: false, environment: 'unknown' };
  }
  return cached;
}

export const load: LayoutServerLoad = async () => {
  const { sandbox, environment } = await systemInfo();
  return { sandbox, environment };
};
