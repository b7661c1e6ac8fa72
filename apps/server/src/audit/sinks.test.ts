import type { AuditRecord } from '@alphaswarm/db';
import { generateTestCertificate, type TestTlsMaterial } from '@alphaswarm/providers/fakes';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpsReceiver, otlpReceiver, type Receiver, syslogReceiver } from './receivers';
import { httpsSink, otlpSink, type Sink, SinkError, syslogSink } from './sinks';

function record(seq: number, outcome = 'success'): AuditRecord {
  return {
    seq,
    id: `id-${seq}`,
    run_id: `run_${seq}`,
    at: '2026-01-01T00:00:00.000Z',
    actor: 'alice',
    client_ip: '10.0.0.1',
    action: 'integrations.connect.huggingface',
    phase: 'attempt',
    outcome,
    org_id: 'org_1',
    kind: 'huggingface',
    credential_key: null,
    detail: { note: 'quote " and ] in detail' },
    prev_link: '0'.repeat(64),
    link: String(seq).padStart(64, 'a'),
    key_id: 'ak_123',
  };
}

const signal = () => AbortSignal.timeout(5_000);
let tls: TestTlsMaterial;
const open: { close(): Promise<void> }[] = [];
const keep = <T extends { close(): Promise<void> }>(x: T) => {
  open.push(x);
  return x;
};

beforeAll(async () => {
  tls = await generateTestCertificate();
});
afterAll(async () => {
  await Promise.all(open.map((x) => x.close()));
});

async function deliversInOrder(sink: Sink, receiver: Receiver) {
  await sink.send([record(1), record(2)], signal());
  await sink.send([record(3, 'failure')], signal());
  await vi.waitFor(() => expect(receiver.received.map((r) => r.seq)).toEqual([1, 2, 3]), { interval: 5 });
  expect(receiver.received[2]).toEqual(record(3, 'failure'));
}

describe('audit sinks against loopback receivers', () => {
  it('HTTPS JSON batches: trusted only through the configured CA, with a bearer token or an HMAC header', async () => {
    const token = 'CANARY-bearer-token-7f3a';
    const bearer = keep(await httpsReceiver({ tls, bearer: token }));
    await deliversInOrder(keep(httpsSink({ url: bearer.url, auth: { bearer: token }, tls: { ca: tls.cert } })), bearer);

    const untrusted = keep(httpsSink({ url: bearer.url, auth: { bearer: token } }));
    await expect(untrusted.send([record(4)], signal())).rejects.toBeInstanceOf(SinkError);
    const wrong = keep(httpsSink({ url: bearer.url, auth: { bearer: 'other' }, tls: { ca: tls.cert } }));
    const refused = await wrong.send([record(4)], signal()).catch((e: Error) => e);
    expect(String(refused)).toMatch(/answered 401/);
    expect(String(refused)).not.toContain(token);

    const hmacKey = 'CANARY-hmac-key-19c2';
    const signed = keep(await httpsReceiver({ tls, hmacKey }));
    await deliversInOrder(keep(httpsSink({ url: signed.url, auth: { hmacKey }, tls: { ca: tls.cert } })), signed);
    const forged = keep(httpsSink({ url: signed.url, auth: { hmacKey: 'nope' }, tls: { ca: tls.cert } }));
    await expect(forged.send([record(9)], signal())).rejects.toThrow(/401/);
    expect(signed.received).toHaveLength(3);
  });

  it('syslog RFC 5424 over TCP and over TLS, octet-counted', async () => {
    const tcp = keep(await syslogReceiver());
    await deliversInOrder(keep(syslogSink({ url: tcp.url })), tcp);
    const [first, , failure] = tcp.messages;
    expect(first).toMatchObject({ pri: 110, version: '1', appName: 'alphaswarm-admin', msgid: record(1).action });
    expect(first?.structured).toContain(`seq="1" link="${record(1).link}"`);
    expect(failure?.pri).toBe(108);

    const secure = keep(await syslogReceiver({ tls }));
    await deliversInOrder(keep(syslogSink({ url: secure.url, tls: { ca: tls.cert } })), secure);
    await expect(keep(syslogSink({ url: secure.url })).send([record(1)], signal())).rejects.toBeInstanceOf(SinkError);
    expect(() => syslogSink({ url: 'udp://127.0.0.1:514' })).toThrow(/tcp:\/\/host:port/);
  });

  it('OTLP/HTTP logs, JSON encoding', async () => {
    const receiver = keep(await otlpReceiver({ tls }));
    await deliversInOrder(
      keep(otlpSink({ url: receiver.url, headers: { 'x-scope': 'audit' }, tls: { ca: tls.cert } })),
      receiver,
    );
  });
});
