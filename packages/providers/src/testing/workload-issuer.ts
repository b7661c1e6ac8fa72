import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { WorkloadTokenSource } from '../types';
import { type RunningFake, startFakeServer } from './fake-server';

export interface TestWorkloadIssuer extends WorkloadTokenSource {
  server: RunningFake;
  /** Add a new signing key and make it current; the old one stays published. */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A stand-in for the server's workload issuer in provider tests: same discovery layout
 * (`<base>/workload/.well-known/openid-configuration`), RS256 keys with a kid, 5-minute tokens.
 */
export async function startTestWorkloadIssuer(): Promise<TestWorkloadIssuer> {
  const keys: { kid: string; privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; jwk: JWK }[] = [];
  const addKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    keys.push({ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } });
  };
  await addKey();
  let issuer = '';
  const server = await startFakeServer((req) => {
    if (req.path === '/workload/.well-known/openid-configuration') {
      return {
        status: 200,
        body: { issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] },
      };
    }
    if (req.path === '/workload/.well-known/jwks.json') return { status: 200, body: { keys: keys.map((k) => k.jwk) } };
    return { status: 404, body: { error: 'not found' } };
  });
  issuer = `${server.url}/workload`;
  return {
    issuer,
    server,
    async mint({ sub, aud }) {
      const key = keys[keys.length - 1]!;
      return new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(randomUUID())
        .sign(key.privateKey);
    },
    rotate: addKey,
    close: () => server.close(),
  };
}
