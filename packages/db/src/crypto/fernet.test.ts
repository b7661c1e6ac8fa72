import { execFileSync } from 'node:child_process';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isCanonicalToken } from './fernet';
import { Fernet, generateKey, InvalidKey, InvalidToken, Keyring, keyFingerprint } from './index';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('pnpm-workspace.yaml not found above the test file');
    dir = parent;
  }
  return dir;
}

// CI clones the repo next to a copy of shared/, so look beside the repo root, not at a fixed path.
const VECTORS = join(repoRoot(), '..', 'shared', 'fernet-vectors');

interface Vector {
  token: string;
  now: string;
  secret: string;
}
type GenerateVector = Vector & { src: string; iv: number[] };
type VerifyVector = Vector & { src: string; ttl_sec: number };
type InvalidVector = Vector & { desc: string; ttl_sec: number };

const vectors = <T extends Vector>(name: string): T[] => JSON.parse(readFileSync(join(VECTORS, name), 'utf8')) as T[];

/** Run a snippet under Python's cryptography with `args` parsed from JSON on stdin; it prints JSON. */
function python<T>(body: string, args: unknown): T {
  const script = [
    'import sys, json, base64',
    'from cryptography.fernet import Fernet, MultiFernet, InvalidToken',
    'args = json.load(sys.stdin)',
    body,
  ].join('\n');
  const out = execFileSync('python3', ['-c', script], { input: JSON.stringify(args), encoding: 'utf8' });
  return JSON.parse(out) as T;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Padded url-safe base64, as a token is spelled. */
const urlsafe = (b: Buffer): string => b.toString('base64').replaceAll('+', '-').replaceAll('/', '_');

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const PAYLOADS: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  'all 256 byte values': ALL_BYTES,
  'one block minus one': randomBytes(15),
  'one block': randomBytes(16),
  'one block plus one': randomBytes(17),
  'utf-8 text': Buffer.from('{"token":"hf_é✓"}', 'utf8'),
  '4 KiB random': randomBytes(4096),
};

function rejects(fn: () => unknown): InvalidToken {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidToken);
    return error as InvalidToken;
  }
  throw new Error('expected InvalidToken');
}

function keyError(fn: () => unknown): InvalidKey {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidKey);
    return error as InvalidKey;
  }
  throw new Error('expected InvalidKey');
}

describe('spec vectors', () => {
  it.each(vectors<GenerateVector>('generate.json'))('generate: $src', (v) => {
    const token = new Fernet(v.secret).encrypt(v.src, { now: new Date(v.now), iv: Buffer.from(v.iv) });
    expect(token).toBe(v.token);
  });

  it.each(vectors<VerifyVector>('verify.json'))('verify: $src', (v) => {
    const plain = new Fernet(v.secret).decrypt(v.token, { ttl: v.ttl_sec, now: new Date(v.now) });
    expect(plain.toString('utf8')).toBe(v.src);
  });

  it.each(vectors<InvalidVector>('invalid.json'))('invalid: $desc', (v) => {
    const error = rejects(() => new Fernet(v.secret).decrypt(v.token, { ttl: v.ttl_sec, now: new Date(v.now) }));
    expect(error.message).not.toContain(v.token);
    expect(error.message).not.toContain(v.secret);
  });
});

describe('interoperability with Python cryptography.fernet', () => {
  const names = Object.keys(PAYLOADS);
  const payloads = Object.values(PAYLOADS).map(hex);

  it('decrypts what Python encrypts, with the same timestamp', () => {
    const made = python<{ key: string; tokens: string[]; stamps: number[] }>(
      `key = Fernet.generate_key()
f = Fernet(key)
tokens = [f.encrypt(bytes.fromhex(p)).decode() for p in args]
print(json.dumps({"key": key.decode(), "tokens": tokens, "stamps": [f.extract_timestamp(t) for t in tokens]}))`,
      payloads,
    );
    const fernet = new Fernet(made.key);
    made.tokens.forEach((token, i) => {
      expect(hex(fernet.decrypt(token)), names[i]).toBe(payloads[i]);
      expect(fernet.extractTimestamp(token)).toBe(made.stamps[i]);
    });
  });

  it('produces tokens Python decrypts, with the same timestamp', () => {
    const key = generateKey();
    const fernet = new Fernet(key);
    const now = new Date('2026-05-27T20:00:00.900Z');
    const tokens = payloads.map((p) => fernet.encrypt(Buffer.from(p, 'hex'), { now }));
    const back = python<{ plain: string[]; stamps: number[] }>(
      `f = Fernet(args["key"])
print(json.dumps({"plain": [f.decrypt(t).hex() for t in args["tokens"]],
                  "stamps": [f.extract_timestamp(t) for t in args["tokens"]]}))`,
      { key, tokens },
    );
    expect(back.plain).toEqual(payloads);
    expect(back.stamps).toEqual(tokens.map(() => Math.floor(now.getTime() / 1000)));
  });

  it('rotates so that Python reads the token with the new key only, keeping the timestamp', () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const original = new Fernet(oldKey).encrypt(ALL_BYTES, {
      now: new Date('2020-01-02T03:04:05Z'),
    });
    const rotated = Keyring.fromEnv(`${newKey},${oldKey}`).rotate(original);
    expect(rotated).not.toBe(original);
    const seen = python<{ plain: string; stamp: number; oldKeyRejected: boolean }>(
      `new = Fernet(args["new"])
try:
    Fernet(args["old"]).decrypt(args["token"])
    rejected = False
except InvalidToken:
    rejected = True
print(json.dumps({"plain": new.decrypt(args["token"]).hex(), "stamp": new.extract_timestamp(args["token"]),
                  "oldKeyRejected": rejected}))`,
      { old: oldKey, new: newKey, token: rotated },
    );
    expect(seen.plain).toBe(hex(ALL_BYTES));
    expect(seen.stamp).toBe(Date.parse('2020-01-02T03:04:05Z') / 1000);
    expect(seen.oldKeyRejected).toBe(true);
  });

  it('reads a token rotated by Python MultiFernet', () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const original = new Fernet(oldKey).encrypt('secret', { now: new Date('2021-06-01T00:00:00Z') });
    const rotated = python<string>(
      `print(json.dumps(MultiFernet([Fernet(args["new"]), Fernet(args["old"])]).rotate(args["token"]).decode()))`,
      { old: oldKey, new: newKey, token: original },
    );
    const fernet = new Fernet(newKey);
    expect(fernet.decrypt(rotated).toString()).toBe('secret');
    expect(fernet.extractTimestamp(rotated)).toBe(Date.parse('2021-06-01T00:00:00Z') / 1000);
  });

  it('applies TTL and clock skew exactly as Python does, the skew check only with a TTL', () => {
    const key = generateKey();
    const stamp = 1_700_000_000;
    const token = new Fernet(key).encrypt('x', { now: new Date(stamp * 1000) });
    const nows = [-3600, -61, -60, -1, 0, 1, 59, 60, 61, 3600].map((d) => stamp + d);
    const ttls = [0, 1, 60];
    const cases = ttls.flatMap((ttl) => nows.map((now) => ({ ttl, now })));
    const accepted = python<{ timed: boolean[]; untimed: boolean }>(
      `f = Fernet(args["key"])
def ok(ttl, now):
    try:
        f.decrypt_at_time(args["token"], ttl, now)
        return True
    except InvalidToken:
        return False
print(json.dumps({"timed": [ok(c["ttl"], c["now"]) for c in args["cases"]],
                  "untimed": f.decrypt(args["token"]) == b"x"}))`,
      { key, token, cases },
    );
    const fernet = new Fernet(key);
    const ours = cases.map(({ ttl, now }) => {
      try {
        fernet.decrypt(token, { ttl, now: new Date(now * 1000 + 999) });
        return true;
      } catch (error) {
        if (error instanceof InvalidToken) return false;
        throw error;
      }
    });
    expect(ours).toEqual(accepted.timed);
    expect(accepted.timed).toContain(true);
    expect(accepted.timed).toContain(false);
    // Python's decrypt without a TTL ignores time entirely, even for a token an hour in the future.
    expect(accepted.untimed).toBe(true);
    expect(fernet.decrypt(token, { now: new Date((stamp - 3600) * 1000) }).toString()).toBe('x');
  });

  it('accepts exactly the token spellings Python accepts', () => {
    const key = generateKey();
    const fernet = new Fernet(key);
    // 0, 16 and 32 byte payloads give tokens ending in '==', '=' and no padding.
    const tokens = [0, 16, 32].map((n) => fernet.encrypt(Buffer.alloc(n, 0xfb)));
    const variants: string[] = [];
    for (const t of tokens) {
      const bare = t.replace(/=+$/, '');
      variants.push(
        t,
        bare,
        `${bare}=`,
        `${t}=`,
        `${t}==`,
        `${t}AAAA`,
        `${t}\n`,
        ` ${t.slice(0, 20)}\n${t.slice(20)}`,
        t.replaceAll('-', '+').replaceAll('_', '/'),
        `${t.slice(0, 10)}%%${t.slice(10)}`,
        `${t.slice(0, 10)}=${t.slice(10)}`,
        `${t.slice(0, 10)}==${t.slice(10)}`,
        `${t.slice(0, 11)}==${t.slice(11)}`,
        `${t.slice(0, 10)}é${t.slice(10)}`,
        t.slice(0, -1),
        t.slice(1),
        `${bare}A`,
        `${bare}A=`,
        '',
      );
    }
    const expected = python<boolean[]>(
      `f = Fernet(args["key"])
def ok(t):
    try:
        f.decrypt(t)
        return True
    except (InvalidToken, ValueError):
        return False
print(json.dumps([ok(t) for t in args["variants"]]))`,
      { key, variants },
    );
    const accepts = (t: string | Buffer): boolean => {
      try {
        fernet.decrypt(t);
        return true;
      } catch (error) {
        if (error instanceof InvalidToken) return false;
        throw error;
      }
    };
    expect(variants.map((v) => accepts(v))).toEqual(expected);
    expect(expected).toContain(true);
    expect(expected).toContain(false);
    // Bytes tokens: Python skips non-ASCII bytes where a non-ASCII str is refused.
    const token = fernet.encrypt('bytes');
    const withHighByte = Buffer.concat([
      Buffer.from(token.slice(0, 10)),
      Buffer.from([0xe9]),
      Buffer.from(token.slice(10)),
    ]);
    expect(accepts(withHighByte)).toBe(true);
    expect(accepts(Buffer.from(token))).toBe(true);
  });

  it('accepts exactly the key spellings Python accepts', () => {
    const raw = randomBytes(32);
    raw[0] = 0xfb; // makes '-' or '_' appear, so the alphabet variant matters
    raw[1] = 0xff;
    const key = `${raw.toString('base64url')}=`;
    const variants = [
      key,
      key.slice(0, -1),
      `${key}\n`,
      `  ${key}`,
      raw.toString('base64'),
      `${randomBytes(31).toString('base64url')}=`,
      randomBytes(33).toString('base64url'),
      `${key.slice(0, 5)}!${key.slice(5)}`,
      '',
      'not a key',
    ];
    const expected = python<boolean[]>(
      `def ok(k):
    try:
        Fernet(k)
        return True
    except ValueError:
        return False
print(json.dumps([ok(k) for k in args]))`,
      variants,
    );
    const ours = variants.map((k) => {
      try {
        return new Fernet(k).fingerprint === keyFingerprint(key);
      } catch (error) {
        if (error instanceof InvalidKey) return false;
        throw error;
      }
    });
    expect(ours).toEqual(expected);
  });

  it('uses keys from Python generate_key and hands Python keys it accepts', () => {
    const pyKey = python<string>('print(json.dumps(Fernet.generate_key().decode()))', null);
    expect(new Fernet(pyKey).decrypt(new Fernet(pyKey).encrypt('ok')).toString()).toBe('ok');
    const ours = generateKey();
    expect(ours).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(ours, 'base64url')).toHaveLength(32);
    expect(python<number>('print(json.dumps(len(base64.urlsafe_b64decode(args))))', ours)).toBe(32);
  });
});

describe('Fernet', () => {
  const key = generateKey();
  const fernet = new Fernet(key);

  it('rejects tampering anywhere in the token, checking the HMAC first', () => {
    const data = Buffer.from(fernet.encrypt('attack at dawn'), 'base64url');
    for (const offset of [0, 1, 8, 9, 24, 25, data.length - 33, data.length - 32, data.length - 1]) {
      const bad = Buffer.from(data);
      bad.writeUInt8(bad.readUInt8(offset) ^ 0x01, offset);
      const error = rejects(() => fernet.decrypt(urlsafe(bad)));
      expect(error.reason).toBe(offset === 0 ? 'malformed' : 'signature');
    }
  });

  it('rejects truncated and foreign tokens', () => {
    const token = fernet.encrypt('x');
    expect(rejects(() => fernet.decrypt(token.slice(0, 40))).reason).toBe('malformed');
    expect(rejects(() => fernet.decrypt('')).reason).toBe('malformed');
    expect(rejects(() => new Fernet(generateKey()).decrypt(token)).reason).toBe('signature');
    expect(rejects(() => new Fernet(generateKey()).extractTimestamp(token)).reason).toBe('signature');
  });

  it('round-trips strings and bytes, and decrypts Buffer tokens', () => {
    expect(fernet.decrypt(fernet.encrypt('héllo')).toString('utf8')).toBe('héllo');
    const bytes = new Uint8Array([0, 255, 128]);
    expect([...fernet.decrypt(Buffer.from(fernet.encrypt(bytes)))]).toEqual([0, 255, 128]);
  });

  it('never reuses an IV across pool refills', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      ivs.add(Buffer.from(fernet.encrypt(''), 'base64url').subarray(9, 25).toString('hex'));
    }
    expect(ivs.size).toBe(1000);
  });

  it('refuses arguments that would silently weaken checks, saying which', () => {
    const token = fernet.encrypt('x');
    expect(() => fernet.decrypt(token, { ttl: Number.NaN })).toThrow(new RangeError('ttl is a number of seconds'));
    expect(() => fernet.decrypt(token, { ttl: '60' as unknown as number })).toThrow(/ttl is a number/);
    expect(() => fernet.decrypt(token, { ttl: 60, now: new Date('nope') })).toThrow(
      new RangeError('now is not a valid date'),
    );
    expect(() => fernet.encrypt('x', { iv: Buffer.alloc(8) })).toThrow(new RangeError('a Fernet IV is 16 bytes'));
    expect(() => fernet.encrypt('x', { now: new Date(-1000) })).toThrow(/valid date not before 1970/);
    expect(() => fernet.encrypt('x', { now: new Date('nope') })).toThrow(RangeError);
    expect(() => fernet.encrypt(42 as unknown as string)).toThrow(new TypeError('Fernet encrypts a string or bytes'));
    expect(rejects(() => fernet.decrypt(42 as unknown as string)).reason).toBe('malformed');
  });

  it('rejects bad keys with a message that does not echo them', () => {
    const bad = ['short', `${key.slice(0, -1)}x==`, `${randomBytes(31).toString('base64url')}=`, '%'.repeat(44), ''];
    for (const k of bad) {
      const error = keyError(() => new Fernet(k));
      expect(error.message).toContain('32 bytes of url-safe base64');
      expect(error.message).toContain('alphaswarm-admin generate-key');
      if (k !== '') expect(error.message).not.toContain(k);
    }
    keyError(() => new Fernet(undefined as unknown as string));
  });

  it('keeps key material out of inspect and JSON', () => {
    for (const shown of [inspect(fernet, { showHidden: true, depth: 5 }), JSON.stringify(fernet)]) {
      expect(shown).not.toContain(key);
      expect(shown).not.toContain(Buffer.from(key, 'base64url').subarray(0, 16).toString('hex'));
      expect(shown).toContain(fernet.fingerprint);
    }
  });

  it('fingerprints keys stably and distinctly', () => {
    expect(fernet.fingerprint).toMatch(/^fp_[0-9a-f]{12}$/);
    expect(keyFingerprint(key)).toBe(fernet.fingerprint);
    expect(keyFingerprint(generateKey())).not.toBe(fernet.fingerprint);
    expect(fernet.fingerprint).not.toContain(Buffer.from(key, 'base64url').toString('hex').slice(0, 12));
  });
});

describe('Keyring', () => {
  const [k1, k2, k3] = [generateKey(), generateKey(), generateKey()];

  it('encrypts with the first key and decrypts with any', () => {
    const ring = Keyring.fromEnv(`${k1},${k2}`);
    expect(new Fernet(k1).decrypt(ring.encrypt('a')).toString()).toBe('a');
    expect(ring.decrypt(new Fernet(k2).encrypt('b')).toString()).toBe('b');
    expect(rejects(() => ring.decrypt(new Fernet(k3).encrypt('c'))).reason).toBe('signature');
  });

  it('reports why the matching key refused a token', () => {
    const ring = Keyring.fromEnv(`${k1},${k2}`);
    const old = new Fernet(k2).encrypt('b', { now: new Date('2020-01-01T00:00:00Z') });
    expect(rejects(() => ring.decrypt(old, { ttl: 60 })).reason).toBe('expired');
    expect(ring.decrypt(old).toString()).toBe('b');
  });

  it('rotates under the first key keeping the timestamp, ignoring age', () => {
    const ring = new Keyring([new Fernet(k2), new Fernet(k1)]);
    const when = new Date('2019-07-01T12:00:00Z');
    const rotated = ring.rotate(new Fernet(k1).encrypt('s', { now: when }));
    expect(new Fernet(k2).decrypt(rotated).toString()).toBe('s');
    expect(new Fernet(k2).extractTimestamp(rotated)).toBe(when.getTime() / 1000);
    expect(ring.extractTimestamp(rotated)).toBe(when.getTime() / 1000);
    expect(rejects(() => ring.rotate(new Fernet(k3).encrypt('s'))).reason).toBe('signature');
    expect(rejects(() => ring.rotate('garbage')).reason).toBe('malformed');
  });

  it('keeps a token the first key reads as it is (after opening it), and rotates any other', () => {
    const ring = Keyring.fromEnv(`${k1},${k2}`);
    const current = new Fernet(k1).encrypt('s');
    expect(ring.underPrimary(current)).toBe(current);
    expect(ring.decryptNoting(current)).toMatchObject({ primary: true });
    const old = new Fernet(k2).encrypt('t', { now: new Date('2019-07-01T12:00:00Z') });
    expect(ring.decryptNoting(old)).toMatchObject({ primary: false });
    const moved = ring.underPrimary(old);
    expect(new Fernet(k1).decrypt(moved).toString()).toBe('t');
    expect(new Fernet(k1).extractTimestamp(moved)).toBe(Date.parse('2019-07-01T12:00:00Z') / 1000);
    // Opened, not just recognised: a forged MAC or a lenient spelling is caught or made canonical.
    const forged = `${current.slice(0, 20)}${current[20] === 'A' ? 'B' : 'A'}${current.slice(21)}`;
    expect(rejects(() => ring.underPrimary(forged)).reason).toBe('signature');
    const lenient = `${current.slice(0, 10)}\n${current.slice(10)}`.replaceAll('-', '+').replaceAll('_', '/');
    expect(ring.underPrimary(lenient)).toBe(current);
  });

  it('parses one key or a list, trimming spaces, and lists fingerprints in order', () => {
    expect(Keyring.fromEnv(k1).fingerprints()).toEqual([keyFingerprint(k1)]);
    expect(Keyring.fromEnv(` ${k1} ,\t${k2}\n, ${k3}`).fingerprints()).toEqual([k1, k2, k3].map(keyFingerprint));
  });

  it.each([
    { desc: 'not 32 bytes', value: () => `${k1},${randomBytes(16).toString('base64url')}`, position: 2 },
    { desc: 'not base64', value: () => `${k1},${k2},***not-base64***`, position: 3 },
    { desc: 'missing padding', value: () => `${k1.slice(0, -1)}`, position: 1 },
    { desc: 'empty entry', value: () => `${k1},,${k2}`, position: 2 },
    { desc: 'trailing comma', value: () => `${k1},`, position: 2 },
    { desc: 'blank entry', value: () => ` , ${k1}`, position: 1 },
  ])('names the position of a bad entry ($desc) without echoing any value', ({ value, position }) => {
    const text = value();
    const error = keyError(() => Keyring.fromEnv(text));
    expect(error.position).toBe(position);
    expect(error.message).toContain(`key ${position} of`);
    expect(error.message).toContain('alphaswarm-admin generate-key');
    for (const entry of text.split(',').map((e) => e.trim())) {
      if (entry !== '') expect(error.message).not.toContain(entry);
    }
  });

  it('refuses a missing or blank value and an empty list', () => {
    keyError(() => Keyring.fromEnv(undefined));
    keyError(() => Keyring.fromEnv('   '));
    keyError(() => new Keyring([]));
  });

  it('keeps key material out of inspect and JSON', () => {
    const ring = Keyring.fromEnv(`${k1},${k2}`);
    for (const shown of [inspect(ring, { showHidden: true, depth: 5 }), JSON.stringify(ring)]) {
      expect(shown).not.toContain(k1);
      expect(shown).not.toContain(k2);
    }
  });
});

/** A token signed and encrypted under `key` whose one cipher block decrypts to `block`, padding as given. */
function sealedBlock(key: string, block: Buffer): string {
  const raw = Buffer.from(key, 'base64url');
  const iv = Buffer.alloc(16, 7);
  const cipher = createCipheriv('aes-128-cbc', raw.subarray(16), iv).setAutoPadding(false);
  const head = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(8), iv, cipher.update(block), cipher.final()]);
  return urlsafe(Buffer.concat([head, createHmac('sha256', raw.subarray(0, 16)).update(head).digest()]));
}

describe('what a signed token must still satisfy', () => {
  const [k1, k2] = [generateKey(), generateKey()];
  const fernet = new Fernet(k1);
  const block = (text: string, ...pad: number[]) => Buffer.concat([Buffer.from(text), Buffer.from(pad)]);

  it('checks every PKCS7 padding byte, even under a valid signature', () => {
    expect(fernet.decrypt(sealedBlock(k1, block('abcdefghijklm', 3, 3, 3))).toString()).toBe('abcdefghijklm');
    expect(fernet.decrypt(sealedBlock(k1, Buffer.alloc(16, 16)))).toHaveLength(0);
    // A pad value above the block size is refused even when that many bytes repeat it.
    const overlong = Buffer.alloc(32, 17);
    for (const bad of [
      block('abcdefghijklmno', 0),
      block('abcdefghijklmno', 17),
      block('abcdefghijklm', 9, 3, 3),
      overlong,
    ]) {
      const error = rejects(() => fernet.decrypt(sealedBlock(k1, bad)));
      expect(error.reason).toBe('padding');
      expect(error.message).toBe('invalid Fernet token: its ciphertext does not decrypt');
    }
  });

  it('a keyring reports the reason of the key that signed the token, whichever its place', () => {
    const ring = Keyring.fromEnv(`${k1},${k2}`);
    const badPadding = sealedBlock(k1, block('abcdefghijklmno', 0));
    expect(rejects(() => ring.decrypt(badPadding)).reason).toBe('padding');
    expect(rejects(() => ring.rotate(badPadding)).reason).toBe('padding');
    const old = fernet.encrypt('a', { now: new Date('2020-01-01T00:00:00Z') });
    expect(rejects(() => ring.decrypt(old, { ttl: 60 })).reason).toBe('expired');
    expect(rejects(() => ring.extractTimestamp(new Fernet(generateKey()).encrypt('c'))).reason).toBe('signature');
  });

  it('a ciphertext that is not whole blocks is malformed, before any signature check', () => {
    const data = Buffer.from(fernet.encrypt('x'), 'base64url');
    expect(rejects(() => fernet.decrypt(urlsafe(Buffer.concat([data, Buffer.alloc(3)])))).reason).toBe('malformed');
    // No cipher block at all (even signed): there is not even a padding block to check.
    expect(rejects(() => fernet.decrypt(sealedBlock(k1, Buffer.alloc(0)))).reason).toBe('malformed');
  });

  it('timestamps are 64-bit: from the epoch itself to beyond 2106', () => {
    for (const when of ['1970-01-01T00:00:00Z', '2200-01-01T00:00:00Z']) {
      const token = fernet.encrypt('t', { now: new Date(when) });
      expect(fernet.extractTimestamp(token)).toBe(Date.parse(when) / 1000);
      expect(Keyring.fromEnv(k1).rotate(token)).not.toBe(token);
      expect(fernet.extractTimestamp(Keyring.fromEnv(k1).rotate(token))).toBe(Date.parse(when) / 1000);
    }
  });

  it('says a blank key list is missing and an empty entry is empty, not merely invalid', () => {
    for (const value of [undefined, '', '   ']) {
      const error = keyError(() => Keyring.fromEnv(value));
      expect(error.message).toMatch(/^no Fernet key given/);
      expect(error.position).toBeUndefined();
    }
    expect(keyError(() => Keyring.fromEnv(`${k1}, ,${k2}`)).message).toMatch(
      /^key 2 of 3 is empty \(a stray comma\?\)/,
    );
    expect(keyError(() => Keyring.fromEnv(`${k1},nope`)).message).toMatch(/^key 2 of 2 is not valid/);
  });

  it('stamps a token with the current second by default, which a TTL then accepts', () => {
    const token = fernet.encrypt('now');
    expect(Math.abs(fernet.extractTimestamp(token) - Date.now() / 1000)).toBeLessThan(5);
    expect(fernet.decrypt(token, { ttl: 60 }).toString()).toBe('now');
    const later = fernet.encrypt('x', { now: new Date(Date.now() + 3_600_000) });
    const error = rejects(() => fernet.decrypt(later, { ttl: 60 }));
    expect(error).toMatchObject({ name: 'InvalidToken', reason: 'future' });
    expect(error.message).toBe('invalid Fernet token: its timestamp is too far in the future');
  });

  it('writes every token in the canonical spelling, and reads the spellings Python reads', () => {
    for (const n of [0, 16, 32]) expect(isCanonicalToken(fernet.encrypt(Buffer.alloc(n)))).toBe(true);
    const token = fernet.encrypt('x');
    expect(isCanonicalToken(`${token.slice(0, 10)}\n${token.slice(10)}`)).toBe(false);
    // Python (checked by hand) skips DEL like any other ASCII character outside the alphabet, and
    // counts pad characters only from the third character of a quantum on.
    expect(fernet.decrypt(`${token.slice(0, 10)}\x7f${token.slice(10)}`).toString()).toBe('x');
    expect(fernet.decrypt(`${token.slice(0, 9)}===${token.slice(9)}`).toString()).toBe('x');
    // ...but refuses a key with a non-ASCII character in it.
    const error = keyError(() => new Fernet(`${k1.slice(0, 5)}é${k1.slice(5)}`));
    expect(error.name).toBe('InvalidKey');
  });

  it('names an empty keyring and shows a keyring by its fingerprints only', () => {
    expect(keyError(() => new Keyring([])).message).toMatch(/^a keyring needs at least one key/);
    expect(JSON.parse(JSON.stringify(Keyring.fromEnv(`${k1},${k2}`)))).toEqual({
      fingerprints: [keyFingerprint(k1), keyFingerprint(k2)],
    });
  });
});
