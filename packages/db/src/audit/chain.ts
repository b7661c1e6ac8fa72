import { createHash } from 'node:crypto';
import type { AuditKey, AuditKeyRing } from './key-ring';

/*
 * The audit chain as pure functions: a row's canonical bytes, its link, and a verifier that walks
 * rows oldest first and names the first divergence. Rows linked before the chain was keyed carry a
 * plain SHA-256 link and no key id; from the upgrade anchor on, each link is an HMAC under the
 * audit key, so a rewritten history cannot be made to verify without that key.
 */

export const GENESIS_LINK = '0'.repeat(64);

/** Chain-relevant fields of a row (the database columns, whatever the dialect). */
export interface ChainRow {
  seq: number;
  id: string;
  runId: string;
  at: string;
  actor: string;
  clientIp: string | null;
  action: string;
  phase: string;
  outcome: string;
  orgId: string | null;
  kind: string | null;
  credentialKey: string | null;
  detail: unknown;
  /** The previous row's link. */
  prevHash: string;
  /** This row's link. */
  hash: string;
  /** The audit key that linked it; null for a row of the plain chain (before the upgrade). */
  keyId: string | null;
}

export type UnlinkedRow = Omit<ChainRow, 'seq' | 'hash'>;

/** Written under a new key, first thing after a key change: `{from, to}` key ids. */
export const KEY_ROTATED = 'audit.key_rotated';
/** The first keyed row of a chain that had plain rows: `{anchor_seq, anchor_link}` of the old tip. */
export const CHAIN_UPGRADED = 'audit.chain_upgraded';
/** Rows up to `{through_seq, through_link}` were archived (retention) and deleted after this row. */
export const CHAIN_ARCHIVED = 'audit.archived';

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/**
 * The bytes a link covers: every column but seq and the link itself, keys sorted, no whitespace.
 * The previous link is part of them, so each link commits to the whole history before it. A plain
 * row's bytes are exactly those of the chain before the upgrade (no key_id), so old links verify.
 */
export function canonicalRowBytes(row: UnlinkedRow): string {
  return canonical({
    ...eventColumns(row),
    prev_hash: row.prevHash,
    ...(row.keyId === null ? {} : { key_id: row.keyId }),
  });
}

/**
 * A row's event fields under their column names: what both the link's bytes and an exported
 * record carry (each adds its own names for the links, so old links and old exports stay as they are).
 */
export function eventColumns(row: UnlinkedRow) {
  return {
    id: row.id,
    run_id: row.runId,
    at: row.at,
    actor: row.actor,
    client_ip: row.clientIp,
    action: row.action,
    phase: row.phase,
    outcome: row.outcome,
    org_id: row.orgId,
    kind: row.kind,
    credential_key: row.credentialKey,
    detail: row.detail,
  };
}

/** The link of a row of the plain chain: SHA-256 of its canonical bytes. */
export function plainLink(row: UnlinkedRow): string {
  return createHash('sha256').update(canonicalRowBytes(row)).digest('hex');
}

/** The keyed link: HMAC-SHA256 under `key` of the canonical bytes (previous link and key id included). */
export function keyedLink(key: AuditKey, row: UnlinkedRow): string {
  if (row.keyId !== key.id) throw new Error(`row names audit key ${row.keyId}, not ${key.id}`);
  return key.mac(canonicalRowBytes(row));
}

export type DivergenceKind =
  | 'rewritten'
  | 'dropped'
  | 'unkeyed'
  | 'unknown_key'
  | 'bad_rotation'
  | 'head_missing'
  | 'truncated'
  | 'checkpoint_mismatch';

export interface Divergence {
  kind: DivergenceKind;
  /** The first row (or checkpointed seq) where the chain stops being what it should be. */
  seq: number;
  id?: string;
  /** A missing range, when one can be named (truncated tail, dropped head). */
  missing?: { fromSeq: number; toSeq: number };
  message: string;
}

export interface ChainVerdict {
  ok: boolean;
  checked: number;
  /** The last row that verified (seq 0 and the genesis link when none did). */
  tip: { seq: number; link: string };
  /** Rows of the plain chain (before the upgrade anchor) that verified by SHA-256 only. */
  plain: number;
  divergence?: Divergence;
}

/** An externally kept checkpoint, its signature already checked. */
export interface Checkpoint {
  last_seq: number;
  last_link: string;
  time: string;
}

export interface ChainVerifierOptions {
  /** Keys to recompute keyed links. Without it only the linkage is checked (offline, no key). */
  ring?: AuditKeyRing;
  /** Checkpoints kept elsewhere: each must find its seq with its link. */
  checkpoints?: readonly Checkpoint[];
  /**
   * A chain with rows must have keyed ones (every chain this build wrote has, from its first row
   * or its upgrade anchor): a history rewritten entirely as a plain chain fails.
   */
  requireKeyed?: boolean;
  /**
   * Rows may start anywhere (a `--since` export): the first row's previous link is taken as given.
   * A database or a full export must start at genesis or at a cut an archive row accounts for.
   */
  partial?: boolean;
}

/**
 * Feed rows oldest first with `push` (stops at the first divergence), then `finish`. Works a batch
 * at a time so a database or a JSONL file of any size is walked in constant memory.
 */
export class ChainVerifier {
  private prev = GENESIS_LINK;
  private prevSeq = 0;
  private prevKey: string | null = null;
  private keyed = false;
  private started = false;
  private headCut: { seq: number; link: string } | null = null;
  private checked = 0;
  private plain = 0;
  private divergence: Divergence | undefined;
  private readonly checkpoints: Checkpoint[];
  private nextCheckpoint = 0;

  constructor(private readonly opts: ChainVerifierOptions = {}) {
    this.checkpoints = [...(opts.checkpoints ?? [])].sort((a, b) => a.last_seq - b.last_seq);
  }

  get failed(): boolean {
    return this.divergence !== undefined;
  }

  /** False once a divergence is found (the rest need not be read). */
  push(row: ChainRow): boolean {
    if (this.divergence) return false;
    const found = this.check(row);
    if (found) {
      this.divergence = found;
      return false;
    }
    this.prev = row.hash;
    this.prevSeq = row.seq;
    this.prevKey = row.keyId;
    this.checked++;
    return true;
  }

  finish(): ChainVerdict {
    if (!this.divergence && this.headCut) {
      this.divergence = {
        kind: 'head_missing',
        seq: this.headCut.seq + 1,
        missing: { fromSeq: 1, toSeq: this.headCut.seq },
        message: `rows up to seq ${this.headCut.seq} are missing and no archive record in the chain accounts for them`,
      };
    }
    if (!this.divergence && this.opts.requireKeyed && this.checked > 0 && !this.keyed) {
      this.divergence = {
        kind: 'unkeyed',
        seq: 1,
        message:
          'no row is linked under the audit key: the chain was rewritten as a plain one, or no server of this version has anchored it yet',
      };
    }
    if (!this.divergence && this.nextCheckpoint < this.checkpoints.length) {
      const cp = this.checkpoints[this.nextCheckpoint]!;
      this.divergence = {
        kind: 'truncated',
        seq: this.prevSeq + 1,
        missing: { fromSeq: this.prevSeq + 1, toSeq: cp.last_seq },
        message: `the chain ends at seq ${this.prevSeq} but the checkpoint of ${cp.time} covers seq ${cp.last_seq}: rows ${this.prevSeq + 1}..${cp.last_seq} were removed from the tail`,
      };
    }
    return {
      ok: !this.divergence,
      checked: this.checked,
      tip: { seq: this.prevSeq, link: this.prev },
      plain: this.plain,
      ...(this.divergence ? { divergence: this.divergence } : {}),
    };
  }

  private check(row: ChainRow): Divergence | undefined {
    const at = { seq: row.seq, id: row.id };
    if (!this.started) {
      this.started = true;
      if (row.prevHash !== GENESIS_LINK) {
        // The head was cut (retention) or deleted: an archive row further on must account for it.
        if (!this.opts.partial) this.headCut = { seq: row.seq - 1, link: row.prevHash };
        this.prev = row.prevHash;
        this.prevSeq = row.seq - 1;
      }
    }
    // Checkpoints the walk has passed without meeting their seq name a dropped row.
    while (this.nextCheckpoint < this.checkpoints.length && this.checkpoints[this.nextCheckpoint]!.last_seq < row.seq) {
      const cp = this.checkpoints[this.nextCheckpoint]!;
      if (cp.last_seq > this.prevSeq) {
        return {
          kind: 'dropped',
          seq: cp.last_seq,
          missing: { fromSeq: this.prevSeq + 1, toSeq: row.seq - 1 },
          message: `the checkpoint of ${cp.time} covers seq ${cp.last_seq}, which is missing: rows between seq ${this.prevSeq} and ${row.seq} were dropped`,
        };
      }
      this.nextCheckpoint++;
    }
    if (row.prevHash !== this.prev) {
      return {
        kind: 'dropped',
        ...at,
        missing: { fromSeq: this.prevSeq + 1, toSeq: row.seq - 1 },
        message: `seq ${row.seq} does not follow seq ${this.prevSeq}: a row between them was dropped, inserted or reordered`,
      };
    }
    const { seq: _seq, hash, ...unlinked } = row;
    if (row.keyId === null) {
      if (this.keyed) {
        return {
          kind: 'unkeyed',
          ...at,
          message: `seq ${row.seq} has a plain SHA-256 link after the chain was keyed: it was rewritten without the audit key`,
        };
      }
      if (plainLink(unlinked) !== hash) return rewritten(row);
      this.plain++;
    } else {
      if (this.opts.ring) {
        const key = this.opts.ring.get(row.keyId);
        if (!key) {
          return {
            kind: 'unknown_key',
            ...at,
            message: `seq ${row.seq} is linked under audit key ${row.keyId}, which is not in ALPHASWARM_ADMIN_AUDIT_KEY (keep retired keys listed after the first)`,
          };
        }
        if (keyedLink(key, unlinked) !== hash) return rewritten(row);
      }
      const rotation = this.keyChange(row);
      if (rotation) return rotation;
      this.keyed = true;
    }
    if (this.headCut && row.action === CHAIN_ARCHIVED) {
      const d = row.detail as { through_seq?: unknown; through_link?: unknown } | null;
      if (d?.through_seq === this.headCut.seq && d.through_link === this.headCut.link) this.headCut = null;
    }
    const cp = this.checkpoints[this.nextCheckpoint];
    if (cp && cp.last_seq === row.seq) {
      if (cp.last_link !== hash) {
        return {
          kind: 'checkpoint_mismatch',
          ...at,
          message: `seq ${row.seq} does not carry the link the checkpoint of ${cp.time} signed: rows at or before it were rewritten`,
        };
      }
      this.nextCheckpoint++;
    }
    return undefined;
  }

  /** The key may change only at a recorded rotation (or at the upgrade anchor of a plain chain). */
  private keyChange(row: ChainRow): Divergence | undefined {
    if (row.keyId === this.prevKey) return undefined;
    const detail = (row.detail ?? {}) as Record<string, unknown>;
    if (this.prevKey === null && !this.keyed) {
      // First keyed row: genesis of a keyed chain, or the anchor of an upgraded plain one.
      if (this.checked === 0 && (this.headCut || this.opts.partial || row.prevHash === GENESIS_LINK)) return undefined;
      if (row.action === CHAIN_UPGRADED && detail.anchor_seq === this.prevSeq && detail.anchor_link === this.prev) {
        return undefined;
      }
    } else if (row.action === KEY_ROTATED && detail.from === this.prevKey && detail.to === row.keyId) {
      return undefined;
    }
    return {
      kind: 'bad_rotation',
      seq: row.seq,
      id: row.id,
      message: `seq ${row.seq} switches the audit key from ${this.prevKey ?? 'the plain chain'} to ${row.keyId} without a recorded rotation`,
    };
  }
}

function rewritten(row: ChainRow): Divergence {
  return {
    kind: 'rewritten',
    seq: row.seq,
    id: row.id,
    message: `seq ${row.seq} (id ${row.id}) does not match its link: the row was rewritten`,
  };
}

/** Verify rows held in memory (an export, a test): the same walk as the database verifier. */
export function verifyChain(rows: Iterable<ChainRow>, opts: ChainVerifierOptions = {}): ChainVerdict {
  const verifier = new ChainVerifier(opts);
  for (const row of rows) if (!verifier.push(row)) break;
  return verifier.finish();
}

/** This row's link: keyed when it names a key, plain otherwise. */
export function linkRow(row: UnlinkedRow, key: AuditKey | null): string {
  return key === null ? plainLink(row) : keyedLink(key, row);
}
