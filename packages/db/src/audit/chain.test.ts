import { describe, expect, it } from 'vitest';
import { generateKey } from '../crypto';
import {
  CHAIN_ARCHIVED,
  CHAIN_UPGRADED,
  type ChainRow,
  ChainVerifier,
  canonicalRowBytes,
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
function append(rows: ChainRow[], key: AuditKey | null, action = 'integrations.list', detail: unknown = {}): ChainRow {
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

describe('what a divergence says', () => {
  const ring = new AuditKeyRing([k1]);

  it('names the row, the range and what happened, in words an operator can act on', () => {
    const rows = chain(6);
    const edited = rows.map((r) => (r.seq === 2 ? { ...r, actor: 'mallory' } : r));
    expect(verifyChain(edited, { ring })).toEqual({
      ok: false,
      checked: 1,
      tip: { seq: 1, link: rows[0]!.hash },
      plain: 0,
      divergence: {
        kind: 'rewritten',
        seq: 2,
        id: 'id-2',
        message: 'seq 2 (id id-2) does not match its link: the row was rewritten',
      },
    });
    expect(verifyChain([...rows.slice(0, 2), ...rows.slice(4)], { ring }).divergence).toEqual({
      kind: 'dropped',
      seq: 5,
      id: 'id-5',
      missing: { fromSeq: 3, toSeq: 4 },
      message: 'seq 5 does not follow seq 2: a row between them was dropped, inserted or reordered',
    });
    const plainAfterKeyed = rewriteWithPlainLinks(rows, 4, { keyId: null });
    expect(verifyChain(plainAfterKeyed, { ring }).divergence).toEqual({
      kind: 'unkeyed',
      seq: 4,
      id: 'id-4',
      message: 'seq 4 has a plain SHA-256 link after the chain was keyed: it was rewritten without the audit key',
    });
    expect(verifyChain(rows, { ring: new AuditKeyRing([k2]) }).divergence).toEqual({
      kind: 'unknown_key',
      seq: 1,
      id: 'id-1',
      message: `seq 1 is linked under audit key ${k1.id}, which is not in ALPHASWARM_ADMIN_AUDIT_KEY (keep retired keys listed after the first)`,
    });
    const silent = chain(2, k1);
    append(silent, k2);
    expect(verifyChain(silent, { ring: new AuditKeyRing([k1, k2]) }).divergence).toEqual({
      kind: 'bad_rotation',
      seq: 3,
      id: 'id-3',
      message: `seq 3 switches the audit key from ${k1.id} to ${k2.id} without a recorded rotation`,
    });
    const unanchored = chain(2, null);
    append(unanchored, k1);
    expect(verifyChain(unanchored, { ring }).divergence?.message).toBe(
      `seq 3 switches the audit key from the plain chain to ${k1.id} without a recorded rotation`,
    );
    expect(verifyChain(rows.slice(2), { ring }).divergence).toEqual({
      kind: 'head_missing',
      seq: 3,
      missing: { fromSeq: 1, toSeq: 2 },
      message: 'rows up to seq 2 are missing and no archive record in the chain accounts for them',
    });
    const checkpoint = { last_seq: 6, last_link: rows[5]!.hash, time: '2026-01-01T00:10:00.000Z' };
    expect(verifyChain(rows.slice(0, 4), { ring, checkpoints: [checkpoint] }).divergence).toEqual({
      kind: 'truncated',
      seq: 5,
      missing: { fromSeq: 5, toSeq: 6 },
      message:
        'the chain ends at seq 4 but the checkpoint of 2026-01-01T00:10:00.000Z covers seq 6: rows 5..6 were removed from the tail',
    });
    const other = { ...checkpoint, last_seq: 3, last_link: 'f'.repeat(64) };
    expect(verifyChain(rows, { ring, checkpoints: [other] }).divergence).toEqual({
      kind: 'checkpoint_mismatch',
      seq: 3,
      id: 'id-3',
      message:
        'seq 3 does not carry the link the checkpoint of 2026-01-01T00:10:00.000Z signed: rows at or before it were rewritten',
    });
    const plainOnly = chain(2, null);
    expect(verifyChain(plainOnly, { requireKeyed: true }).divergence).toEqual({
      kind: 'unkeyed',
      seq: 1,
      message:
        'no row is linked under the audit key: the chain was rewritten as a plain one, or no server of this version has anchored it yet',
    });
  });
});

describe('what a link covers', () => {
  const row = {
    id: 'id-1',
    runId: 'run_1',
    at: '2026-01-01T00:00:01.000Z',
    actor: 'alice',
    clientIp: '192.0.2.1',
    action: 'integrations.connect',
    phase: 'outcome',
    outcome: 'success',
    orgId: 'org-a',
    kind: 'huggingface',
    credentialKey: 'huggingface:org:org-a',
    detail: { z: [2, 1], a: { y: null, b: 'x' } },
    prevHash: GENESIS_LINK,
    keyId: null,
  };

  it('is every column in sorted keys without whitespace, the key id only on keyed rows: old plain links keep verifying', () => {
    const bytes =
      '{"action":"integrations.connect","actor":"alice","at":"2026-01-01T00:00:01.000Z","client_ip":"192.0.2.1",' +
      '"credential_key":"huggingface:org:org-a","detail":{"a":{"b":"x","y":null},"z":[2,1]},"id":"id-1",' +
      `"kind":"huggingface","org_id":"org-a","outcome":"success","phase":"outcome","prev_hash":"${GENESIS_LINK}",` +
      '"run_id":"run_1"}';
    expect(canonicalRowBytes(row)).toBe(bytes);
    expect(canonicalRowBytes({ ...row, keyId: k1.id })).toBe(bytes.replace('"kind"', `"key_id":"${k1.id}","kind"`));
    // Undefined members are left out, as JSON would leave them out.
    expect(canonicalRowBytes({ ...row, detail: { a: { b: 'x', y: null, gone: undefined }, z: [2, 1] } })).toBe(bytes);
    expect(plainLink(row)).not.toBe(plainLink({ ...row, detail: { a: { b: 'x', y: null }, z: [1, 2] } }));
  });

  it('a keyed link is made only under the key its row names', () => {
    expect(() => linkRow({ ...row, keyId: k2.id }, k1)).toThrow(`row names audit key ${k2.id}, not ${k1.id}`);
    expect(linkRow({ ...row, keyId: k1.id }, k1)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('verifier walk', () => {
  const ring = new AuditKeyRing([k1]);

  it('checks checkpoints given in any order, and names one whose row was dropped', () => {
    const rows = chain(6);
    const cp = (seq: number) => ({ last_seq: seq, last_link: rows[seq - 1]!.hash, time: `t${seq}` });
    expect(verifyChain(rows, { ring, checkpoints: [cp(5), cp(2)] })).toMatchObject({ ok: true, checked: 6 });
    const wrong = { ...cp(2), last_link: 'f'.repeat(64) };
    expect(verifyChain(rows, { ring, checkpoints: [cp(5), wrong] }).divergence).toMatchObject({
      kind: 'checkpoint_mismatch',
      seq: 2,
    });
    expect(verifyChain(rows.slice(0, 3), { ring, checkpoints: [cp(5), cp(2)] }).divergence).toMatchObject({
      kind: 'truncated',
      missing: { fromSeq: 4, toSeq: 5 },
    });
    // A plain chain with seq 3 dropped and the rows after it re-linked: only the checkpoint can tell.
    const plain = chain(6, null);
    const relinked = rewriteWithPlainLinks(
      plain.filter((r) => r.seq !== 3),
      4,
      {},
    );
    expect(verifyChain(relinked).ok).toBe(true);
    const kept = { last_seq: 3, last_link: plain[2]!.hash, time: 't3' };
    expect(verifyChain(relinked, { checkpoints: [kept] }).divergence).toEqual({
      kind: 'dropped',
      seq: 3,
      missing: { fromSeq: 3, toSeq: 3 },
      message: 'the checkpoint of t3 covers seq 3, which is missing: rows between seq 2 and 4 were dropped',
    });
  });

  it('an empty chain verifies, even where keyed rows are required', () => {
    expect(verifyChain([], { ring, requireKeyed: true })).toEqual({
      ok: true,
      checked: 0,
      tip: { seq: 0, link: GENESIS_LINK },
      plain: 0,
    });
  });

  it('a plain row edited in place, its link left as it was, is named as rewritten', () => {
    const rows = chain(3, null);
    const edited = rows.map((r) => (r.seq === 2 ? { ...r, outcome: 'failure' } : r));
    expect(verifyChain(edited).divergence).toMatchObject({ kind: 'rewritten', seq: 2 });
  });

  it('stops at the first divergence: later rows are not read and do not change the verdict', () => {
    const rows = chain(4);
    const verifier = new ChainVerifier({ ring });
    expect(verifier.push(rows[0]!)).toBe(true);
    expect(verifier.failed).toBe(false);
    expect(verifier.push({ ...rows[1]!, actor: 'mallory' })).toBe(false);
    expect(verifier.failed).toBe(true);
    expect(verifier.push(rows[2]!)).toBe(false);
    expect(verifier.finish()).toMatchObject({ ok: false, checked: 1, divergence: { kind: 'rewritten', seq: 2 } });
  });

  it('a partial export may start anywhere, keyed or not; a full one must start at genesis or at an archived cut', () => {
    const rows = chain(5);
    expect(verifyChain(rows.slice(2), { ring, partial: true })).toMatchObject({
      ok: true,
      checked: 3,
      tip: { seq: 5, link: rows[4]!.hash },
    });
    expect(verifyChain(rows.slice(2), { ring }).divergence?.kind).toBe('head_missing');
    // Checkpoints of rows before the export's first row are not asked for.
    const before = { last_seq: 2, last_link: rows[1]!.hash, time: 't2' };
    expect(verifyChain(rows.slice(2), { ring, partial: true, checkpoints: [before] }).ok).toBe(true);
    // Nothing verified yet: the tip is where the export says it starts.
    const broken = [{ ...rows[2]!, actor: 'mallory' }, ...rows.slice(3)];
    expect(verifyChain(broken, { ring, partial: true })).toMatchObject({
      ok: false,
      checked: 0,
      tip: { seq: 2, link: rows[1]!.hash },
    });

    const plain = chain(3, null);
    append(plain, k1, CHAIN_UPGRADED, { anchor_seq: 3, anchor_link: plain[2]!.hash });
    expect(verifyChain(plain.slice(3), { ring, partial: true })).toMatchObject({ ok: true, plain: 0 });
    expect(verifyChain(plain, { ring })).toMatchObject({ ok: true, plain: 3 });
    const wrongAnchor = chain(3, null);
    append(wrongAnchor, k1, CHAIN_UPGRADED, { anchor_seq: 2, anchor_link: wrongAnchor[2]!.hash });
    expect(verifyChain(wrongAnchor, { ring }).divergence?.kind).toBe('bad_rotation');
    const wrongLink = chain(3, null);
    append(wrongLink, k1, CHAIN_UPGRADED, { anchor_seq: 3, anchor_link: wrongLink[1]!.hash });
    expect(verifyChain(wrongLink, { ring }).divergence?.kind).toBe('bad_rotation');
    // Only the upgrade row itself anchors; and a partial export switches keys by the same rules once it has begun.
    const notUpgrade = chain(3, null);
    append(notUpgrade, k1, 'integrations.list', { anchor_seq: 3, anchor_link: notUpgrade[2]!.hash });
    expect(verifyChain(notUpgrade, { ring }).divergence?.kind).toBe('bad_rotation');
    const unanchored = chain(3, null);
    append(unanchored, k1);
    expect(verifyChain(unanchored.slice(1), { ring, partial: true }).divergence).toMatchObject({
      kind: 'bad_rotation',
      seq: 4,
    });
  });

  it('an archive row accounts for a cut only when it names the cut seq and link; a rotation only from and to the right keys', () => {
    const rows = chain(3);
    const cut = rows[1]!;
    append(rows, k1, CHAIN_ARCHIVED, { through_seq: cut.seq, through_link: rows[0]!.hash });
    expect(verifyChain(rows.slice(2), { ring }).divergence?.kind).toBe('head_missing');
    const other = chain(3);
    append(other, k1, CHAIN_ARCHIVED, { through_seq: 1, through_link: other[1]!.hash });
    expect(verifyChain(other.slice(2), { ring }).divergence?.kind).toBe('head_missing');
    const nothing = chain(3);
    append(nothing, k1, CHAIN_ARCHIVED, null);
    expect(verifyChain(nothing.slice(2), { ring }).divergence?.kind).toBe('head_missing');
    const notArchive = chain(3);
    append(notArchive, k1, 'integrations.list', { through_seq: 2, through_link: notArchive[1]!.hash });
    expect(verifyChain(notArchive.slice(2), { ring }).divergence?.kind).toBe('head_missing');
    // Before the rows it names are deleted, the archive row sits in a whole chain.
    const whole = chain(3);
    append(whole, k1, CHAIN_ARCHIVED, { through_seq: 2, through_link: whole[1]!.hash });
    expect(verifyChain(whole, { ring })).toMatchObject({ ok: true, checked: 4 });

    const both = new AuditKeyRing([k1, k2]);
    for (const detail of [
      { from: k2.id, to: k2.id },
      { from: k1.id, to: k1.id },
    ]) {
      const rotated = chain(2, k1);
      append(rotated, k2, KEY_ROTATED, detail);
      expect(verifyChain(rotated, { ring: both }).divergence?.kind).toBe('bad_rotation');
    }
    const named = chain(2, k1);
    append(named, k2, 'integrations.list', { from: k1.id, to: k2.id });
    expect(verifyChain(named, { ring: both }).divergence?.kind).toBe('bad_rotation');
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
