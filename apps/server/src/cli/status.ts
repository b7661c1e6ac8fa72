import type { PublicIntegration } from '@alphaswarm/contracts';
import { expiryState, inDays, kinds } from '@alphaswarm/contracts/kinds';
import { linksNeedingAttention, toPublic } from '@alphaswarm/db';
import type { Env } from '../env';
import { openForReading, readFailure } from './context';
import type { Cli } from './io';

/** How many links one `status` lists: enough for a terminal, bounded for a platform in trouble. */
const STATUS_LIMIT = 500;

/** One line per link: what it is, its status, how long until it expires, and the upstream's words. */
function describeLink(link: PublicIntegration & { expires_at: string | null }, now: Date): string {
  const expiry = expiryState(link.expires_at, now);
  const when =
    expiry.state === 'expired'
      ? ', expired'
      : expiry.state === 'expiring'
        ? `, expires ${inDays(expiry.daysLeft)}`
        : '';
  const error = link.error ? ` — ${link.error.code}: ${link.error.message}` : '';
  return `${link.org_id}  ${kinds[link.kind].label} (${link.namespace})  ${link.status}${when}${error}`;
}

/**
 * `status [--org ID] [--json]`: the links that need attention (every status but healthy), most
 * urgent first. Reads only (a read-only database works). Resolves to the exit code: 1 when any.
 */
export async function statusCommand(
  cli: Cli,
  env: Env,
  opts: { org?: string; json?: boolean },
  now: Date = new Date(),
): Promise<number> {
  const store = await openForReading(cli, env);
  let links: (PublicIntegration & { expires_at: string | null })[];
  try {
    const rows = await linksNeedingAttention(store.db, { orgId: opts.org ?? null, limit: STATUS_LIMIT });
    links = rows.map((row) => ({ ...toPublic(row), expires_at: row.expiresAt }));
  } catch (error) {
    throw readFailure(store, error);
  } finally {
    await store.close();
  }
  if (opts.json) {
    cli.out(JSON.stringify({ needs_attention: links.length, links }));
  } else if (links.length === 0) {
    cli.out(opts.org ? `Every link of ${opts.org} is healthy.` : 'Every link is healthy.');
  } else {
    cli.out(`${links.length === STATUS_LIMIT ? `${STATUS_LIMIT}+` : links.length} link(s) need attention:`);
    for (const link of links) cli.out(describeLink(link, now));
  }
  return links.length > 0 ? 1 : 0;
}
