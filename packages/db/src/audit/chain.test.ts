import { describe, expect, it } from 'vitest';
import { generateKey } from '../crypto';
import {
  CHAIN_ARCHIVED,
  CHAIN_UPGRADED,
  type ChainRow,
  GENESIS_LINK,
  KEY_ROTATED,
  linkRow,
  plainLink,
  verifyChain,
} from './chain';
import { AuditKey, AuditKeyRing, InvalidAuditKey } from './key-ring';

const k1 = AuditKey.fromText(generateKey());
const k2 = AuditKey.fromText(generateKey());

/** Append like the repository does: link under `key` (null: the plain chain of old builds). */
function append(
  rows: ChainRow[],
  key: AuditKey | null,
  action = 'integrations.list',
  detail: Record<string, unknown> = {},
): ChainRow {
  const prev = rows.at(-1);
  const seq = (prev?.seq ?? 0) + 1;
  const unlinked = {
    id: `id-${seq}`,
    runId: `run_${seq}`,
    at: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
    actor: 'alice',
    clientIp: null,
    action,
    phase: 'event',
    outcome: 'success',
    orgId: null,
    kind: null,
    credentialKey: null,
    detail,
    prevHash: prev?.hash ?? GENESIS_LINK,
    keyId: key?.id ?? null,
  };
  const row = { ...unlinked, seq, hash: linkRow(unlinked, key) };
  rows.push(row);
  return row;
}

function chain(n: number, key: AuditKey | null = k1): ChainRow[] {
  const rows: ChainRow[] = [];
  for (let i = 0; i < n; i++) append(rows, key);
  return rows;
}

/** What someone with write access but no key can do: edit a row, recompute every SHA-256 link after it. */
function rewriteWithPlainLinks(rows: ChainRow[], seq: number, patch: Partial<ChainRow>): ChainRow[] {
  const out = rows.map((r) => ({ ...r }));
  for (let i = out.findIndex((r) => r.seq === seq); i < out.length; i++) {
    const row = out[i]!;
    if (row.seq === seq) Object.assign(row, patch);
    row.prevHash = i === 0 ? GENESIS_LINK : out[i - 1]!.hash;
    const { seq: _s, hash: _h, ...unlinked } = row;
    row.hash = plainLink(unlinked);
  }
  return out;
}

describe('keyed audit chain', () => {
  const ring = new AuditKeyRing([k1]);

  it('verifies a keyed chain, and names a rewritten row even when every link after it was recomputed', () => {
    const rows = chain(6);
    expect(verifyChain(rows, { ring })).toMatchObject({ ok: true, checked: 6, tip: { seq: 6, link: rows[5]!.hash } });

    const kept = rewriteWithPlainLinks(rows, 3, { actor: 'mallory' });
    expect(verifyChain(kept, { ring }).divergence).toMatchObject({ kind: 'rewritten', seq: 3 });
    // Dropping the key id to pass as the plain chain does not help either.
    const unkeyed = rewriteWithPlainLinks(rows, 3, { actor: 'mallory', keyId: null });
    expect(verifyChain(unkeyed, { ring }).divergence).toMatchObject({ kind: 'unkeyed', seq: 3 });
    // Nor does rewriting the whole history as a plain chain.
    const all = rewriteWithPlainLinks(
      rows.map((r) => ({ ...r, keyId: null })),
      1,
      {},
    );
    expect(verifyChain(all, { ring, requireKeyed: true }).divergence).toMatchObject({ kind: 'unkeyed' });
  });

  it('names a dropped middle row and a truncated tail (against a checkpoint kept elsewhere)', () => {
    const rows = chain(8);
    const dropped = rows.filter((r) => r.seq !== 4);
    expect(verifyChain(dropped, { ring }).divergence).toMatchObject({
      kind: 'dropped',
      seq: 5,
      missing: { fromSeq: 4, toSeq: 4 },
    });

    const checkpoint = { last_seq: 8, last_link: rows[7]!.hash, time: '2026-01-01T00:10:00.000Z' };
    const truncated = rows.slice(0, 5);
    expect(verifyChain(truncated, { ring }).ok).toBe(true);
    const verdict = verifyChain(truncated, { ring, checkpoints: [checkpoint] });
    expect(verdict.divergence).toMatchObject({ kind: 'truncated', missing: { fromSeq: 6, toSeq: 8 } });
    expect(verdict.divergence?.message).toContain('rows 6..8');

    const other = { ...checkpoint, last_link: 'f'.repeat(64) };
    expect(verifyChain(rows, { ring, checkpoints: [other] }).divergence).toMatchObject({
      kind: 'checkpoint_mismatch',
      seq: 8,
    });
  });

  it('verifies across a key rotation recorded in the chain, and refuses an unrecorded one', () => {
    const rows = chain(3, k1);
    append(rows, k2, KEY_ROTATED, { from: k1.id, to: k2.id });
    append(rows, k2);
    const both = new AuditKeyRing([k2, k1]);
    expect(verifyChain(rows, { ring: both })).toMatchObject({ ok: true, checked: 5 });
    expect(verifyChain(rows, { ring: new AuditKeyRing([k2]) }).divergence).toMatchObject({
      kind: 'unknown_key',
      seq: 1,
    });
    // Without the key only the linkage is checked (offline), and the rotation is still required.
    expect(verifyChain(rows).ok).toBe(true);

    const silent = chain(3, k1);
    append(silent, k2);
    expect(verifyChain(silent, { ring: both }).divergence).toMatchObject({ kind: 'bad_rotation', seq: 4 });
  });

  it('upgrades a plain chain from a recorded anchor: rewriting a plain row before it is caught', () => {
    const rows = chain(3, null);
    const tip = rows[2]!;
    append(rows, k1, CHAIN_UPGRADED, { anchor_seq: tip.seq, anchor_link: tip.hash });
    append(rows, k1);
    expect(verifyChain(rows, { ring, requireKeyed: true })).toMatchObject({ ok: true, checked: 5, plain: 3 });

    const edited = rewriteWithPlainLinks(rows.slice(0, 3), 2, { actor: 'mallory' }).concat(rows.slice(3));
    expect(verifyChain(edited, { ring }).divergence).toMatchObject({ kind: 'dropped', seq: 4 });

    const noAnchor = chain(3, null);
    append(noAnchor, k1);
    expect(verifyChain(noAnchor, { ring }).divergence).toMatchObject({ kind: 'bad_rotation', seq: 4 });
  });

  it('accepts a head cut by retention only where an archive row in the chain accounts for it', () => {
    const rows = chain(4);
    const cut = rows[1]!;
    append(rows, k1, CHAIN_ARCHIVED, { through_seq: cut.seq, through_link: cut.hash });
    append(rows, k1);
    expect(verifyChain(rows.slice(2), { ring })).toMatchObject({ ok: true, checked: 4 });
    expect(verifyChain(rows.slice(3), { ring }).divergence).toMatchObject({
      kind: 'head_missing',
      missing: { fromSeq: 1, toSeq: 3 },
    });
  });
});

describe('audit key ring', () => {
  it('parses a comma-separated list (first links) and names a bad entry by position, never by value', () => {
    const ring = AuditKeyRing.fromEnv(` ${generateKey()} ,${generateKey()}`);
    expect(ring.ids()).toHaveLength(2);
    expect(ring.primary.id).toBe(ring.ids()[0]);
    const canary = 'CANARY-not-a-key-1234567890';
    const error = (() => {
      try {
        AuditKeyRing.fromEnv(`${generateKey()},${canary}`);
      } catch (e) {
        return e as InvalidAuditKey;
      }
    })();
    expect(error).toBeInstanceOf(InvalidAuditKey);
    expect(error?.position).toBe(2);
    expect(error?.message).not.toContain(canary);
    expect(JSON.stringify(ring)).not.toMatch(/[A-Za-z0-9_-]{43}=/);
  });
});
