import { exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { CheckpointError, readCheckpoints, readPublicKeys, signCheckpoint, verifyCheckpoint } from './checkpoint';

const cp = { last_seq: 42, last_link: 'a'.repeat(64), time: '2026-01-01T00:15:00.000Z' };

describe('signed audit checkpoints', () => {
  it('verify under the pinned key in every published form, and not under another key or once altered', async () => {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    const other = await generateKeyPair('EdDSA', { extractable: true });
    const jws = await signCheckpoint({ kid: 'audit-1', key: pair.privateKey }, cp);

    const pem = await readPublicKeys(await exportSPKI(pair.publicKey));
    const jwks = await readPublicKeys(
      JSON.stringify({
        keys: [
          { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'admin-1' },
          { ...(await exportJWK(pair.publicKey)), kid: 'audit-1' },
        ],
      }),
    );
    expect(await verifyCheckpoint(jws, pem)).toEqual(cp);
    expect(await verifyCheckpoint(jws, jwks)).toEqual(cp);

    await expect(verifyCheckpoint(jws, await readPublicKeys(await exportSPKI(other.publicKey)))).rejects.toThrow(
      /does not verify/,
    );
    const [h, p, s] = jws.split('.');
    const forged = Buffer.from(JSON.stringify({ ...cp, last_seq: 41 })).toString('base64url');
    await expect(verifyCheckpoint(`${h}.${forged}.${s}`, pem)).rejects.toBeInstanceOf(CheckpointError);
    expect(p).not.toBe(forged);
  });

  it('reads a checkpoints file of JWS lines or JSON lines and names the first bad line', async () => {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    const keys = await readPublicKeys(JSON.stringify(await exportJWK(pair.publicKey)));
    const a = await signCheckpoint({ kid: 'k', key: pair.privateKey }, cp);
    const b = await signCheckpoint({ kid: 'k', key: pair.privateKey }, { ...cp, last_seq: 50 });
    const file = `${a}\n\n${JSON.stringify({ type: 'checkpoint', jws: b })}\n`;
    expect((await readCheckpoints(file, keys)).map((c) => c.last_seq)).toEqual([42, 50]);
    await expect(readCheckpoints(`${a}\n${b.slice(0, -4)}AAAA\n`, keys)).rejects.toThrow(/line 2/);
    await expect(readPublicKeys('not a key')).rejects.toThrow(/neither a PEM/);
  });
});

describe('checkpoints inside an audit stream', () => {
  it('are picked out of the records a sink or an export holds', async () => {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    const keys = await readPublicKeys(JSON.stringify(await exportJWK(pair.publicKey)));
    const jws = await signCheckpoint({ kid: 'k', key: pair.privateKey }, cp);
    const stream = [
      JSON.stringify({ seq: 42, action: 'integrations.list', detail: {} }),
      JSON.stringify({ seq: 43, action: 'audit.checkpoint', detail: { ...cp, jws } }),
    ].join('\n');
    expect(await readCheckpoints(stream, keys)).toEqual([cp]);
    await expect(readCheckpoints('{"hello":1}', keys)).rejects.toThrow(/line 1 carries no checkpoint/);
  });
});
