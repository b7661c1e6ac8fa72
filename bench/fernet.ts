/**
 * Fernet throughput, ours against Python's `cryptography.fernet` on the same machine in the
 * same run: encrypt and decrypt of 64 B and 4 KiB payloads. Prints figures, asserts nothing.
 *
 *   pnpm exec tsx bench/fernet.ts [seconds per figure, default 1.5]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Fernet, generateKey } from '@alphaswarm/db/fernet';

const TARGET = 1.2;
const SIZES = [64, 4096] as const;
const seconds = Number(process.argv[2] ?? 1.5);

function rate(fn: () => unknown): number {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) fn();
  let count = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  for (;;) {
    for (let i = 0; i < 64; i++) fn();
    count += 64;
    const now = performance.now();
    if (now >= deadline) return (count * 1000) / (now - start);
  }
}

function ours(): Record<string, number> {
  const fernet = new Fernet(generateKey());
  const result: Record<string, number> = {};
  for (const size of SIZES) {
    const payload = randomBytes(size);
    const token = fernet.encrypt(payload);
    result[`encrypt ${size}`] = rate(() => fernet.encrypt(payload));
    result[`decrypt ${size}`] = rate(() => fernet.decrypt(token));
  }
  return result;
}

function python(): Record<string, number> {
  const script = fileURLToPath(new URL('./fernet.py', import.meta.url));
  const out = execFileSync('python3', [script, String(seconds), ...SIZES.map(String)], { encoding: 'utf8' });
  return JSON.parse(out) as Record<string, number>;
}

const label = (key: string): string => key.replace(/ 4096$/, ' 4 KiB').replace(/ 64$/, ' 64 B');
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const py = python();
const js = ours();

console.log(`Fernet tokens/s, ${seconds} s per figure (node ${process.version})\n`);
const header = ['workload', 'ours', 'python', 'ours/python', `>= ${TARGET}x`];
const rows = [header];
for (const key of Object.keys(js)) {
  const a = js[key] ?? 0;
  const b = py[key] ?? Number.NaN;
  const ratio = a / b;
  rows.push([label(key), fmt(a), fmt(b), `${ratio.toFixed(2)}x`, ratio >= TARGET ? 'yes' : 'NO']);
}
const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
for (const row of rows) {
  const cells = row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)));
  console.log(cells.join('   '));
}
