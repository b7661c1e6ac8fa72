import { describe, expect, it } from 'vitest';
import { HashGate } from './hash-gate';

/** Work the test finishes by hand, so every ordering below is deterministic. */
function held() {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { work: () => done, finish: () => finish() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('HashGate', () => {
  it('runs a few at once, queues a few more, refuses the rest at once, and caps each address', async () => {
    const gate = new HashGate({ concurrency: 1, queue: 2, perAddress: 2 });
    const a = gate.admit('203.0.113.1');
    const a2 = gate.admit('203.0.113.1');
    const a3 = gate.admit('203.0.113.1');
    expect([a.ok, a2.ok, a3.ok]).toEqual([true, true, false]);
    expect(a3).toEqual({ ok: false, reason: 'address_busy' });
    const b = gate.admit('192.0.2.1');
    expect(b.ok).toBe(true);
    // concurrency 1 + queue 2 are taken: a fourth address is told "busy" without waiting.
    expect(gate.admit('192.0.2.2')).toEqual({ ok: false, reason: 'busy' });
    if (!a.ok || !a2.ok || !b.ok) throw new Error('admitted above');

    const order: string[] = [];
    const first = held();
    const second = held();
    const third = held();
    const runs = [
      a.ticket.run(async () => {
        order.push('a');
        await first.work();
      }),
      a2.ticket.run(async () => {
        order.push('a2');
        await second.work();
      }),
      b.ticket.run(async () => {
        order.push('b');
        await third.work();
      }),
    ];
    await tick();
    expect(order).toEqual(['a']);
    expect(gate.stats.peakWaiting).toBe(2);
    first.finish();
    await tick();
    expect(order).toEqual(['a', 'a2']);
    // The address has a place again now that one of its hashes is done.
    const again = gate.admit('203.0.113.1');
    expect(again.ok).toBe(true);
    if (again.ok) again.ticket.cancel();
    second.finish();
    third.finish();
    await Promise.all(runs);
    expect(order).toEqual(['a', 'a2', 'b']);
    expect(gate.stats).toMatchObject({ runs: 3, refused: 2 });
  });

  it('a cancelled or failed ticket gives its place back; a ticket runs once', async () => {
    const gate = new HashGate({ concurrency: 1, queue: 0, perAddress: 1 });
    const a = gate.admit('x');
    if (!a.ok) throw new Error('admitted');
    expect(gate.admit('y')).toEqual({ ok: false, reason: 'busy' });
    a.ticket.cancel();
    const b = gate.admit('x');
    if (!b.ok) throw new Error('admitted after cancel');
    await expect(b.ticket.run(() => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed');
    await expect(b.ticket.run(async () => 1)).rejects.toThrow(/runs once/);
    expect(gate.admit('x').ok).toBe(true);
  });
});
