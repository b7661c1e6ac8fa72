import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestTlsMaterial {
  /** PEM private key for the loopback server. */
  key: string;
  /** PEM self-signed certificate; also the CA a client must trust (`UpstreamConfig.tlsCa`). */
  cert: string;
}

/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, made with the system `openssl`
 * at test time so no key material is ever committed. Trust it per client (`tlsCa`), never through
 * NODE_EXTRA_CA_CERTS, so one test's CA cannot leak into the rest of the process.
 */
export async function generateTestCertificate(
  options: { days?: number; commonName?: string } = {},
): Promise<TestTlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'alphaswarm-tls-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        String(options.days ?? 2),
        '-subj',
        `/CN=${options.commonName ?? 'localhost'}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { timeout: 30_000 },
    );
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    return { key, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
