import type { Checkpoint } from '@alphaswarm/db';
import {
  CompactSign,
  type CryptoKey,
  compactVerify,
  decodeProtectedHeader,
  importJWK,
  importSPKI,
  type JWK,
  type KeyObject,
} from 'jose';

/*
 * Signed checkpoints: `{last_seq, last_link, time}` signed with the audit checkpoint key (Ed25519,
 * JWS alg EdDSA), whose public half is published in the admin issuer's JWKS and can be pinned. A
 * team keeping these outside our database can tell a truncated, rewritten or thinned chain from the
 * one we had when we signed.
 */

export const CHECKPOINT_ALG = 'EdDSA';
export const CHECKPOINT_TYP = 'audit-checkpoint+jws';

export type SigningKey = CryptoKey | KeyObject;

/** A checkpoint or key file that cannot be used; the message says which and why. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

function payloadOf(cp: Checkpoint): string {
  // Fixed key order: the signed bytes are the same whoever re-serialises the checkpoint.
  return JSON.stringify({ last_seq: cp.last_seq, last_link: cp.last_link, time: cp.time });
}

export async function signCheckpoint(key: { kid: string; key: SigningKey }, cp: Checkpoint): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payloadOf(cp)))
    .setProtectedHeader({ alg: CHECKPOINT_ALG, kid: key.kid, typ: CHECKPOINT_TYP })
    .sign(key.key);
}

function isCheckpoint(value: unknown): value is Checkpoint {
  const v = value as Checkpoint;
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isSafeInteger(v.last_seq) &&
    v.last_seq >= 0 &&
    typeof v.last_link === 'string' &&
    /^[0-9a-f]{64}$/.test(v.last_link) &&
    typeof v.time === 'string'
  );
}

/** The checkpoint a JWS carries, once its signature verifies under one of `keys`. */
export async function verifyCheckpoint(jws: string, keys: readonly PublicKey[]): Promise<Checkpoint> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new CheckpointError('not a compact JWS');
  }
  if (header.alg !== CHECKPOINT_ALG || header.typ !== CHECKPOINT_TYP) {
    throw new CheckpointError(`not an audit checkpoint (alg ${String(header.alg)}, typ ${String(header.typ)})`);
  }
  const candidates = keys.filter((k) => k.kid === undefined || header.kid === undefined || k.kid === header.kid);
  for (const candidate of candidates) {
    try {
      const { payload } = await compactVerify(jws, candidate.key, { algorithms: [CHECKPOINT_ALG] });
      const cp = JSON.parse(new TextDecoder().decode(payload)) as unknown;
      if (!isCheckpoint(cp)) throw new CheckpointError('its payload is not {last_seq, last_link, time}');
      return { last_seq: cp.last_seq, last_link: cp.last_link, time: cp.time };
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
    }
  }
  throw new CheckpointError(
    `its signature does not verify under the given public key${header.kid ? ` (signed by ${header.kid})` : ''}`,
  );
}

export interface PublicKey {
  kid?: string;
  key: SigningKey;
}

/**
 * A pinned public key: a PEM (SPKI) file, one JWK, or a JWKS (the admin issuer's, as published;
 * only its Ed25519 keys are taken).
 */
export async function readPublicKeys(text: string): Promise<PublicKey[]> {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) {
    try {
      return [{ key: await importSPKI(trimmed, CHECKPOINT_ALG) }];
    } catch {
      throw new CheckpointError('the PEM public key is not an Ed25519 key');
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new CheckpointError('the public key file is neither a PEM public key nor JSON (a JWK or a JWKS)');
  }
  const jwks = Array.isArray((json as { keys?: unknown }).keys) ? (json as { keys: JWK[] }).keys : [json as JWK];
  const ed = jwks.filter((k) => k && k.kty === 'OKP' && k.crv === 'Ed25519');
  if (ed.length === 0) throw new CheckpointError('the public key file holds no Ed25519 key');
  return Promise.all(
    ed.map(async (jwk) => ({
      ...(jwk.kid ? { kid: jwk.kid } : {}),
      key: (await importJWK({ ...jwk, alg: CHECKPOINT_ALG }, CHECKPOINT_ALG)) as SigningKey,
    })),
  );
}

/** The audit row a checkpoint is also written as (so every sink receives it in the stream). */
export const CHECKPOINT_ACTION = 'audit.checkpoint';

/**
 * A checkpoints file: one per line, the compact JWS itself, a JSON object carrying it in `jws`, or
 * a whole audit stream or export (the `audit.checkpoint` records among the others are taken; blank
 * lines are skipped). Every signature is checked; the first bad line is named.
 */
export async function readCheckpoints(text: string, keys: readonly PublicKey[]): Promise<Checkpoint[]> {
  const out: Checkpoint[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    let jws = line;
    if (line.startsWith('{')) {
      let value: { jws?: unknown; action?: unknown; detail?: { jws?: unknown } };
      try {
        value = JSON.parse(line);
      } catch {
        throw new CheckpointError(`checkpoints line ${index + 1} is not valid JSON`);
      }
      if (value.action === CHECKPOINT_ACTION) jws = String(value.detail?.jws ?? '');
      else if (value.jws !== undefined) jws = String(value.jws);
      // Other audit records of a stream kept by a SIEM: the checkpoints ride among them.
      else if (value.action !== undefined) continue;
      else throw new CheckpointError(`checkpoints line ${index + 1} carries no checkpoint`);
    }
    try {
      out.push(await verifyCheckpoint(jws, keys));
    } catch (error) {
      throw new CheckpointError(`checkpoints line ${index + 1}: ${(error as Error).message}`);
    }
  }
  return out;
}
