import type { IncomingMessage } from 'node:http';
import { AppError, formatZod } from '@alphaswarm/api';
import { LoginInput, LogoutInput, RefreshInput, StepUpInput } from '@alphaswarm/contracts';
import type { z } from 'zod';
import { BODY_LIMITS, readJsonBody } from '../../http-body';
import type { RouteHandler } from '../../http-server';
import type { Runtime } from '../../runtime';
import { embeddedIdp } from './service';
import { AMR_MFA, AMR_PASSWORD } from './tokens';

const AUTH_PATHS = new Set(['/auth/login', '/auth/step-up', '/auth/refresh', '/auth/logout']);

async function readJson<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await readJsonBody(req, BODY_LIMITS.auth));
  if (!parsed.success) throw new AppError('invalid_request', formatZod(parsed.error));
  return parsed.data;
}

/**
 * Plain-HTTP face of the embedded IdP for scripts and curl: `POST /auth/login`, `/auth/step-up`,
 * `/auth/refresh`, `/auth/logout` (same JSON as the tRPC `auth` router) and the admin issuer's discovery + JWKS.
 * Answers nothing (falls through to 404) when the embedded IdP is off.
 */
export function authRoutes(rt: Runtime): RouteHandler {
  return async (
    req,
    path,
    info,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> } | null> => {
    const issuer = rt.adminIssuer;
    if (!issuer) return null;
    const from = { clientIp: info.clientIp, authorization: info.authorization };
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      const base = issuer.issuer;
      return {
        status: 200,
        body: issuer.discovery({
          scopes_supported: ['admin:cluster', 'admin:read'],
          claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'auth_time', 'amr', 'scope'],
          amr_values_supported: [...new Set([...AMR_PASSWORD, ...AMR_MFA])],
          token_endpoint_auth_methods_supported: ['none'],
          alphaswarm_login_endpoint: `${base}/auth/login`,
          alphaswarm_step_up_endpoint: `${base}/auth/step-up`,
          alphaswarm_refresh_endpoint: `${base}/auth/refresh`,
          alphaswarm_logout_endpoint: `${base}/auth/logout`,
        }),
        headers: { 'cache-control': 'max-age=300' },
      };
    }
    if (req.method === 'GET' && path === '/.well-known/jwks.json') {
      // The audit checkpoint key is published beside the admin keys, so one pinned JWKS verifies both.
      const keys = [...(await issuer.jwks()).keys, ...(await rt.auditSigner.jwks()).keys];
      return { status: 200, body: { keys }, headers: { 'cache-control': 'max-age=60' } };
    }
    if (AUTH_PATHS.has(path)) {
      if (req.method !== 'POST') {
        return {
          status: 405,
          body: { error: { code: 'method_not_allowed', message: `Use POST for ${path}.` } },
          headers: { allow: 'POST' },
        };
      }
      const idp = embeddedIdp(rt);
      if (path === '/auth/login') return { status: 200, body: await idp.login(await readJson(req, LoginInput), from) };
      if (path === '/auth/step-up')
        return { status: 200, body: await idp.stepUp(await readJson(req, StepUpInput), from) };
      if (path === '/auth/logout')
        return { status: 200, body: await idp.logout(await readJson(req, LogoutInput), from) };
      return { status: 200, body: await idp.refresh(await readJson(req, RefreshInput), from) };
    }
    return null;
  };
}
