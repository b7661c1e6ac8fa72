import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

/*
 * A company IdP on loopback for the sandbox and the tests: panva's oidc-provider (the certified
 * OpenID Provider library), with a plain sign-in page of its own. Access tokens are JWTs for the
 * admin API's audience carrying `groups`, `amr`, `acr` and `auth_time`, as Keycloak, Okta or Entra
 * can be configured to send. Never part of a production server: only the sandbox imports it.
 */

export interface DemoIdpUser {
  username: string;
  password: string;
  name: string;
  email: string;
  groups: string[];
  /** Whether this user's sign-in counts as multi-factor (`amr` gets `otp` and `mfa`). */
  mfa: boolean;
}

export interface DemoIdpClient {
  client_id: string;
  /** Absent: a public client (PKCE only). */
  client_secret?: string;
  redirect_uris: string[];
}

export interface DemoIdp {
  issuer: string;
  audience: string;
  users: DemoIdpUser[];
  close(): Promise<void>;
}

const MFA_AMR = ['pwd', 'otp', 'mfa'];
const PWD_AMR = ['pwd'];

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main>${body}</main></body></html>`;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16_384) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

export async function startDemoIdp(opts: {
  users: DemoIdpUser[];
  clients: DemoIdpClient[];
  /** The admin API's audience (ALPHASWARM_ADMIN_OIDC_AUDIENCE). */
  audience: string;
  host?: string;
  /** The host name in its issuer URL (default `host`). */
  issuerHost?: string;
  port?: number;
  /** Seconds an access token lives. */
  accessTokenTtl?: number;
}): Promise<DemoIdp> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const issuer = `http://${opts.issuerHost ?? host}:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = {
    ...(await exportJWK(privateKey)),
    kid: `demo-${randomBytes(4).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };
  const byName = new Map(opts.users.map((u) => [u.username, u]));
  const ttl = opts.accessTokenTtl ?? 600;

  const configuration: Configuration = {
    clients: opts.clients.map((c) => ({
      client_id: c.client_id,
      ...(c.client_secret
        ? { client_secret: c.client_secret, token_endpoint_auth_method: 'client_secret_basic' as const }
        : { token_endpoint_auth_method: 'none' as const }),
      redirect_uris: c.redirect_uris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
    // acr, amr and auth_time in every ID token: the console checks them on a step-up.
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => opts.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'admin',
          audience: opts.audience,
          accessTokenTTL: ttl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    ttl: {
      AccessToken: ttl,
      IdToken: ttl,
      RefreshToken: 12 * 3600,
      Interaction: 600,
      Session: 12 * 3600,
      Grant: 12 * 3600,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Every client here is first-party: a refresh token without asking for offline_access, no consent screen.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { client, session } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const known = session.grantIdFor(client.clientId);
      if (known) {
        const grant = await ctx.oidc.provider.Grant.find(known);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid profile email groups offline_access');
      grant.addResourceScope(opts.audience, 'admin');
      await grant.save();
      session.grantIdFor(client.clientId, grant.jti);
      return grant;
    },
    async findAccount(_ctx, sub) {
      const user = byName.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({
          sub,
          name: user.name,
          preferred_username: user.username,
          email: user.email,
          groups: user.groups,
        }),
      };
    },
    // What the admin API reads from an access token: the caller's groups and how it signed in.
    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      const user = token.accountId ? byName.get(token.accountId) : undefined;
      const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
      return {
        groups: user?.groups ?? [],
        ...(source?.amr ? { amr: source.amr } : {}),
        ...(source?.acr ? { acr: source.acr } : {}),
        ...(source?.authTime ? { auth_time: source.authTime } : {}),
      };
    },
  };
  const provider = new Provider(issuer, configuration);
  const oidc = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'POST') {
      const form = await readForm(req);
      const user = byName.get(form.get('username') ?? '');
      if (!user || user.password !== form.get('password')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(loginPage(uid, 'Wrong username or password.'));
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        {
          login: {
            accountId: user.username,
            amr: user.mfa ? MFA_AMR : PWD_AMR,
            acr: user.mfa ? 'mfa' : 'pwd',
            remember: true,
          },
        },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(uid, details.prompt.name === 'login' && details.session ? 'Sign in again to confirm.' : ''));
  }

  server.on('request', (req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]{1,64})$/.exec((req.url ?? '').split('?')[0] ?? '');
    if (!match?.[1]) {
      oidc(req, res);
      return;
    }
    interaction(req, res, match[1]).catch(() => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Demo IdP', '<p>This sign-in has expired; start again from the console.</p>'));
    });
  });

  return {
    issuer,
    audience: opts.audience,
    users: opts.users,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function loginPage(uid: string, message: string): string {
  return page(
    'Demo IdP — sign in',
    `<h1>Demo identity provider</h1>
<p>The sandbox's stand-in for your company's IdP (Keycloak, Okta, Entra ID…).</p>
${message ? `<p role="alert">${esc(message)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`,
  );
}
