import { type CloudKind, isProviderError, kinds, type TrustCheck, type VerifyTrustResult } from '@alphaswarm/contracts';
import type { WizardRow } from '@alphaswarm/db';
import { createLocalJWKSet, type JWK, jwtVerify } from 'jose';
import type { ApiDeps } from '../deps';
import { AppError } from '../errors';

const UPSTREAM = 'Workload issuer';
const PROBE_AUDIENCE = 'alphaswarm-verify-trust';

type Fetched = { ok: true; body: Record<string, unknown> } | { ok: false; message: string };

async function getJson(deps: Pick<ApiDeps, 'http'>, url: string): Promise<Fetched> {
  try {
    const res = await deps.http.request(UPSTREAM, url, { timeoutMs: 10_000 });
    if (res.status !== 200) {
      return {
        ok: false,
        message: `${url} answered HTTP ${res.status}; publish the issuer there (alphaswarm-admin publish-issuer) or fix the static host.`,
      };
    }
    const body = JSON.parse(res.body) as unknown;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return { ok: false, message: `${url} did not answer a JSON object.` };
    }
    return { ok: true, body: body as Record<string, unknown> };
  } catch (error) {
    if (isProviderError(error)) return { ok: false, message: `${url} could not be read: ${error.message}` };
    if (error instanceof SyntaxError) return { ok: false, message: `${url} did not answer JSON.` };
    throw error;
  }
}

const sameKey = (a: JWK, b: JWK) => a.kid === b.kid && a.kty === b.kty && a.n === b.n && a.e === b.e && a.x === b.x;

/**
 * Read the workload issuer the way a cloud does (discovery at `<issuer>/.well-known/openid-configuration`,
 * then its `jwks_uri`, over the network, no credentials) and say whether it matches the keys this
 * server signs with. Each failed check says what to do.
 */
export async function verifyTrust(
  deps: Pick<ApiDeps, 'http' | 'subjectTokens'>,
  subject: string,
): Promise<VerifyTrustResult> {
  const issuer = deps.subjectTokens.issuer;
  const checks: TrustCheck[] = [];
  const done = () => ({ issuer, ok: checks.every((c) => c.ok), checks });

  const discoveryUrl = `${issuer}/.well-known/openid-configuration`;
  const discovery = await getJson(deps, discoveryUrl);
  if (!discovery.ok) {
    checks.push({ check: 'discovery', ok: false, message: discovery.message });
    return done();
  }
  checks.push({ check: 'discovery', ok: true, message: `${discoveryUrl} answers.` });
  if (discovery.body.issuer !== issuer) {
    checks.push({
      check: 'issuer',
      ok: false,
      message: `The discovery document names issuer ${String(discovery.body.issuer).slice(0, 300)}, but our tokens carry ${issuer}; clouds refuse the mismatch (even a trailing slash). Re-publish it, or set ALPHASWARM_ADMIN_WORKLOAD_ISSUER_URL to the URL it is served under.`,
    });
    return done();
  }
  checks.push({ check: 'issuer', ok: true, message: `It names ${issuer}, as our tokens do.` });
  const jwksUri = discovery.body.jwks_uri;
  if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri)) {
    checks.push({ check: 'jwks', ok: false, message: 'The discovery document has no jwks_uri URL; re-publish it.' });
    return done();
  }
  const published = await getJson(deps, jwksUri);
  if (!published.ok) {
    checks.push({ check: 'jwks', ok: false, message: published.message });
    return done();
  }
  const publishedKeys = Array.isArray(published.body.keys) ? (published.body.keys as JWK[]) : [];
  const ours = deps.subjectTokens.jwks ? ((await deps.subjectTokens.jwks()).keys as JWK[]) : [];
  const missing = ours.filter((k) => !publishedKeys.some((p) => sameKey(p, k)));
  checks.push(
    missing.length === 0
      ? { check: 'keys', ok: true, message: `${jwksUri} holds all ${ours.length} of our published keys.` }
      : {
          check: 'keys',
          ok: false,
          message: `${jwksUri} lacks key ${missing.map((k) => k.kid).join(', ')}: clouds cannot verify tokens it signs. Run alphaswarm-admin publish-issuer.`,
        },
  );
  try {
    const token = await deps.subjectTokens.mint({ sub: subject, aud: PROBE_AUDIENCE });
    await jwtVerify(token, createLocalJWKSet({ keys: publishedKeys }), { issuer, audience: PROBE_AUDIENCE });
    checks.push({ check: 'signature', ok: true, message: 'A token signed now verifies against the published keys.' });
  } catch {
    checks.push({
      check: 'signature',
      ok: false,
      message: 'A token signed now does not verify against the published keys: re-publish the issuer.',
    });
  }
  return done();
}

/** `verifyTrust` for a wizard session's cloud and org; a cloud without OIDC has nothing to verify. */
export function verifySessionTrust(
  deps: Pick<ApiDeps, 'http' | 'subjectTokens'>,
  row: WizardRow,
): Promise<VerifyTrustResult> {
  const facts = kinds[row.kind as CloudKind];
  if (facts.secretBearing) {
    throw new AppError('precondition_failed', `${facts.label} has no OIDC federation: there is no issuer to verify.`);
  }
  return verifyTrust(deps, facts.subject(row.orgId));
}
