import { randomBytes } from 'node:crypto';
import {
  type FakeReply,
  type FakeRequest,
  type RunningFake,
  type SlowOrBrokenKnobs,
  slowOrBroken,
  startFakeServer,
} from '../testing/fake-server';
import type { AccountsBody, PolicyResources, RollBody, TokenDetailsBody, VerifyBody, ZonesBody } from './schemas';

/**
 * Loopback fake of Cloudflare API v4 (upstreams.md §6): the `{success, errors, messages, result}`
 * envelope everywhere, token verify on the user and account routes, token details with policies,
 * roll (`PUT …/value`, the old value dies at once), accounts and zones with `result_info` paging.
 * Endpoints other than verify enforce the permission groups of the calling token, roughly as
 * Cloudflare does; the exact error codes for a missing permission (9109) are unconfirmed.
 */

export interface CloudflareFakePolicy {
  id?: string;
  effect: 'allow' | 'deny';
  resources: PolicyResources;
  permission_groups: { id: string; name: string }[];
}

export interface CloudflareFakeToken {
  id: string;
  value: string;
  account_id: string;
  /** Account-owned (default) tokens verify on `/accounts/{id}/tokens/verify`, user-owned on `/user/tokens/verify`. */
  owner?: 'account' | 'user';
  name?: string;
  status: 'active' | 'disabled' | 'expired';
  expires_on?: string;
  not_before?: string;
  policies: CloudflareFakePolicy[];
}

export interface CloudflareFakeKnobs extends SlowOrBrokenKnobs {
  /** Answer the next N requests with 429 and `Retry-After`. */
  rateLimitNext: number;
  retryAfterSeconds: number;
  /** Maximum `per_page` honoured (Cloudflare clamps lists; 50 for accounts and zones). */
  maxPerPage: number;
  /** Play a careless upstream that echoes the presented Authorization header in error messages. */
  echoAuthorizationInErrors: boolean;
}

export interface CloudflareFake {
  /** Base URL to configure as `cloudflare.apiUrl` (`…/client/v4`). */
  apiUrl: string;
  server: RunningFake;
  knobs: CloudflareFakeKnobs;
  addToken(token: CloudflareFakeToken): void;
  addAccount(account: { id: string; name: string }): void;
  addZone(zone: { id: string; name: string; account_id: string; status?: string }): void;
  /** The token record by id (to flip status, change expiry, or read the current value after a roll). */
  token(id: string): CloudflareFakeToken | undefined;
  /** Answer the next `count` requests with `status` (5xx) before any other check. */
  failNext(status: number, count?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

/** Well-known permission groups, ids as the dashboard lists them (ids are illustrative for the fake). */
export const CF_GROUPS = {
  accountSettingsRead: { id: 'c1fde68c7bcc44588cbb6ddbc16d6480', name: 'Account Settings Read' },
  zoneRead: { id: 'c8fed203ed3043cba015a93ad1616f1f', name: 'Zone Read' },
  dnsRead: { id: '82e64a83756745bbbb1c9c2701bf816b', name: 'DNS Read' },
  accountTokensRead: { id: 'eb56a6953c034b9d97dd838155666f06', name: 'Account API Tokens Read' },
  accountTokensWrite: { id: '5bc3f8b21c554832afc660159ab75fa4', name: 'Account API Tokens Write' },
  dnsWrite: { id: '4755a26eedb94da69e1066d98aa820be', name: 'DNS Write' },
  zoneWrite: { id: 'e6d2666161e84845a636613608cee8d5', name: 'Zone Write' },
} as const;

const BASE = '/client/v4';

export async function startCloudflareFake(
  options: { tls?: { key: string; cert: string } } = {},
): Promise<CloudflareFake> {
  const tokens = new Map<string, CloudflareFakeToken>(); // by id
  const accounts = new Map<string, { id: string; name: string }>();
  const zones: { id: string; name: string; account_id: string; status: string }[] = [];
  let faults: { status: number; count: number }[] = [];
  const knobs: CloudflareFakeKnobs = {
    delayMs: 0,
    rateLimitNext: 0,
    retryAfterSeconds: 30,
    maxPerPage: 50,
    echoAuthorizationInErrors: false,
    fault: null,
  };

  const byValue = (value: string) => [...tokens.values()].find((t) => t.value === value);
  const effectiveStatus = (t: CloudflareFakeToken) =>
    t.status === 'active' && t.expires_on && Date.parse(t.expires_on) <= Date.now() ? 'expired' : t.status;

  const handle = (req: FakeRequest): FakeReply => {
    const fault = faults[0];
    if (fault) {
      if (--fault.count <= 0) faults.shift();
      return fail(fault.status, [{ code: 10001, message: 'service temporarily unavailable' }]);
    }
    if (knobs.rateLimitNext > 0) {
      knobs.rateLimitNext--;
      // Code 971 is what Cloudflare's edge rate limiter is reported to answer; unconfirmed.
      return {
        ...fail(429, [{ code: 971, message: 'Please wait and consider throttling your request speed' }]),
        headers: { 'retry-after': String(knobs.retryAfterSeconds) },
      };
    }
    if (!req.path.startsWith(`${BASE}/`)) return noRoute();
    const path = req.path.slice(BASE.length);
    const seg = path.split('/').filter(Boolean);

    const header = typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined;
    const echo = knobs.echoAuthorizationInErrors && header ? ` (${header})` : '';
    if (!header)
      return fail(400, [{ code: 9106, message: 'Missing X-Auth-Key, X-Auth-Email or Authorization headers' }]);
    const m = /^Bearer ([A-Za-z0-9_-]+)$/.exec(header);
    if (!m) {
      return fail(400, [
        {
          code: 6003,
          message: 'Invalid request headers',
          error_chain: [{ code: 6111, message: `Invalid format for Authorization header${echo}` }],
        },
      ]);
    }
    const caller = byValue(m[1]!);
    const invalid = () => fail(401, [{ code: 1000, message: `Invalid API Token${echo}` }]);

    // GET /user/tokens/verify, GET /accounts/{id}/tokens/verify
    const isUserVerify = seg.length === 3 && seg[0] === 'user' && seg[1] === 'tokens' && seg[2] === 'verify';
    const isAccountVerify = seg.length === 4 && seg[0] === 'accounts' && seg[2] === 'tokens' && seg[3] === 'verify';
    if (req.method === 'GET' && (isUserVerify || isAccountVerify)) {
      if (!caller) return invalid();
      const owner = caller.owner ?? 'account';
      if (isUserVerify && owner !== 'user') return invalid();
      if (isAccountVerify && (owner !== 'account' || caller.account_id !== seg[1])) return invalid();
      const body: VerifyBody = {
        success: true,
        errors: [],
        messages: [{ code: 10000, message: 'This API Token is valid and active', type: null }],
        result: {
          id: caller.id,
          status: effectiveStatus(caller),
          ...(caller.not_before ? { not_before: caller.not_before } : {}),
          ...(caller.expires_on ? { expires_on: caller.expires_on } : {}),
        },
      };
      return { status: 200, body };
    }

    // Everything else needs a live token (the exact answer Cloudflare gives a disabled token here is unconfirmed).
    if (!caller || effectiveStatus(caller) !== 'active') return invalid();
    const denied = () => fail(403, [{ code: 9109, message: 'Unauthorized to access requested resource' }]);

    // GET /accounts/{id}/tokens/{token_id}, GET /user/tokens/{token_id}
    const accountToken = seg.length === 4 && seg[0] === 'accounts' && seg[2] === 'tokens';
    const userToken = seg.length === 3 && seg[0] === 'user' && seg[1] === 'tokens';
    if (req.method === 'GET' && (accountToken || userToken)) {
      const accountId = accountToken ? seg[1]! : caller.account_id;
      const group = accountToken ? 'Account API Tokens Read' : 'API Tokens Read';
      if (!grants(caller, group, accountId)) return denied();
      const target = tokens.get(accountToken ? seg[3]! : seg[2]!);
      if (
        !target ||
        target.account_id !== accountId ||
        (target.owner ?? 'account') !== (accountToken ? 'account' : 'user')
      ) {
        return fail(404, [
          { code: 7003, message: `Could not route to ${path}, perhaps your object identifier is invalid?` },
        ]);
      }
      const body: TokenDetailsBody = {
        success: true,
        errors: [],
        messages: [],
        result: {
          id: target.id,
          name: target.name ?? target.id,
          status: effectiveStatus(target),
          ...(target.not_before ? { not_before: target.not_before } : {}),
          ...(target.expires_on ? { expires_on: target.expires_on } : {}),
          policies: target.policies.map((p, i) => ({ id: p.id ?? `policy-${i}`, ...p })),
        },
      };
      return { status: 200, body };
    }

    // PUT /accounts/{id}/tokens/{token_id}/value, PUT /user/tokens/{token_id}/value
    const accountRoll = seg.length === 5 && seg[0] === 'accounts' && seg[2] === 'tokens' && seg[4] === 'value';
    const userRoll = seg.length === 4 && seg[0] === 'user' && seg[1] === 'tokens' && seg[3] === 'value';
    if (req.method === 'PUT' && (accountRoll || userRoll)) {
      const accountId = accountRoll ? seg[1]! : caller.account_id;
      const group = accountRoll ? 'Account API Tokens Write' : 'API Tokens Write';
      if (!grants(caller, group, accountId)) return denied();
      const target = tokens.get(accountRoll ? seg[3]! : seg[2]!);
      if (!target || target.account_id !== accountId) {
        return fail(404, [
          { code: 7003, message: `Could not route to ${path}, perhaps your object identifier is invalid?` },
        ]);
      }
      target.value = randomBytes(30).toString('base64url').slice(0, 40);
      const body: RollBody = { success: true, errors: [], messages: [], result: target.value };
      return { status: 200, body };
    }

    // GET /accounts?page&per_page
    if (req.method === 'GET' && seg.length === 1 && seg[0] === 'accounts') {
      const visible = [...accounts.values()].filter((a) => grants(caller, 'Account Settings Read', a.id));
      const { items, info } = page(visible, req);
      const body: AccountsBody = {
        success: true,
        errors: [],
        messages: [],
        result: items.map((a) => ({
          id: a.id,
          name: a.name,
          type: 'standard',
          settings: { enforce_twofactor: false },
        })),
        result_info: info,
      };
      return { status: 200, body };
    }

    // GET /zones?account.id=…&page&per_page
    if (req.method === 'GET' && seg.length === 1 && seg[0] === 'zones') {
      const accountId = req.query.get('account.id') ?? caller.account_id;
      if (!grants(caller, 'Zone Read', accountId)) return denied();
      const inAccount = zones.filter((z) => z.account_id === accountId);
      const { items, info } = page(inAccount, req);
      const body: ZonesBody = {
        success: true,
        errors: [],
        messages: [],
        result: items.map((z) => ({
          id: z.id,
          name: z.name,
          status: z.status,
          paused: false,
          type: 'full',
          account: { id: z.account_id, name: accounts.get(z.account_id)?.name ?? '' },
        })),
        result_info: info,
      };
      return { status: 200, body };
    }

    if (req.method === 'POST' && seg.at(-1) === 'roll')
      return fail(404, [{ code: 7000, message: 'No route for that URI' }]);
    return noRoute();
  };

  function page<T>(
    all: T[],
    req: FakeRequest,
  ): { items: T[]; info: { page: number; per_page: number; count: number; total_count: number; total_pages: number } } {
    const perPage = Math.min(Math.max(Number(req.query.get('per_page') ?? '20') || 20, 5), knobs.maxPerPage);
    const pageNo = Math.max(Number(req.query.get('page') ?? '1') || 1, 1);
    const items = all.slice((pageNo - 1) * perPage, pageNo * perPage);
    return {
      items,
      info: {
        page: pageNo,
        per_page: perPage,
        count: items.length,
        total_count: all.length,
        total_pages: Math.ceil(all.length / perPage),
      },
    };
  }

  const server = await startFakeServer(async (req) => {
    const reply = handle(req);
    return {
      ...reply,
      ...slowOrBroken(knobs),
    };
  }, options.tls);

  return {
    apiUrl: `${server.url}${BASE}`,
    server,
    knobs,
    addToken(token) {
      tokens.set(token.id, { ...token, policies: token.policies.map((p) => ({ ...p })) });
    },
    addAccount(account) {
      accounts.set(account.id, account);
    },
    addZone(zone) {
      zones.push({ status: 'active', ...zone });
    },
    token: (id) => tokens.get(id),
    failNext(status, count = 1) {
      faults.push({ status, count });
    },
    clearFaults() {
      faults = [];
    },
    close: () => server.close(),
  };
}

function fail(
  status: number,
  errors: { code: number; message: string; error_chain?: { code: number; message: string }[] }[],
): FakeReply {
  return { status, body: { success: false, errors, messages: [], result: null } };
}

function noRoute(): FakeReply {
  return fail(404, [{ code: 7000, message: 'No route for that URI' }]);
}

/** Does the token carry `groupName` in an allow policy reaching `accountId` (and no deny for it)? */
function grants(token: CloudflareFakeToken, groupName: string, accountId: string): boolean {
  const reaches = (resources: PolicyResources): boolean =>
    Object.entries(resources).some(
      ([key, value]) =>
        key === `com.cloudflare.api.account.${accountId}` ||
        key === 'com.cloudflare.api.account.*' ||
        key.startsWith('com.cloudflare.api.account.zone.') ||
        key.startsWith('com.cloudflare.api.user.') ||
        (typeof value === 'object' && reaches(value)),
    );
  const carries = (p: CloudflareFakePolicy) =>
    p.permission_groups.some((g) => g.name.toLowerCase() === groupName.toLowerCase());
  return (
    token.policies.some((p) => p.effect === 'allow' && carries(p) && reaches(p.resources)) &&
    !token.policies.some((p) => p.effect === 'deny' && carries(p) && reaches(p.resources))
  );
}
