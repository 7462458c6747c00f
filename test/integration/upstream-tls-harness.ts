/**
 * Fixtures for the upstream TLS tests: `node:https` upstreams on 127.0.0.1:0 that record what
 * each handshake carried (SNI, ALPN, client certificate), a log capture, and kong.yml pieces
 * with PEMs from the test PKI (`test/helpers/tls.ts`).
 *
 * ```ts
 * const up = await startTlsUpstream(pki.server(['backend.test']), (req, res) => res.end('ok'));
 * up.handshakes[0]?.servername; // 'backend.test'
 * ```
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../src/observability/logger.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Pem } from '../helpers/tls.ts';

/** What the upstream saw of one TLS connection. */
export interface Handshake {
  /** SNI the client sent; false when none. */
  readonly servername: string | false;
  readonly alpn: string | false;
  /** Subject CN of the client certificate, when one was presented. */
  readonly clientCn?: string;
}

export interface TlsUpstream {
  readonly port: number;
  readonly server: ReturnType<typeof createServer>;
  readonly handshakes: Handshake[];
  /** Handshakes the upstream refused (e.g. no client certificate when one is required). */
  readonly refused: Error[];
  close(): Promise<void>;
}

export async function startTlsUpstream(
  pem: Pem,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: ServerOptions = {},
): Promise<TlsUpstream> {
  const server = createServer({ cert: pem.cert, key: pem.key, ALPNProtocols: ['http/1.1'], ...options }, handler);
  const handshakes: Handshake[] = [];
  const refused: Error[] = [];
  server.on('secureConnection', (socket: TLSSocket) => {
    const peer = socket.getPeerCertificate();
    const cn = peer !== null && typeof peer === 'object' && 'subject' in peer ? peer.subject?.CN : undefined;
    const servername = (socket as TLSSocket & { servername?: string | false | null }).servername ?? false;
    handshakes.push({ servername, alpn: socket.alpnProtocol ?? false, ...(typeof cn === 'string' ? { clientCn: cn } : {}) });
  });
  server.on('tlsClientError', (error) => refused.push(error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    server,
    handshakes,
    refused,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type LogLine = Record<string, unknown>;

/** A JSON logger whose lines land in `lines`. */
export function captureLogs(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text !== '') lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { logger: createLogger('info', stream, 'json'), lines };
}

/** YAML-safe scalar for a PEM (a JSON string is a YAML string). */
export const pemScalar = (pem: string): string => JSON.stringify(pem);

export const CA_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const OTHER_CA_ID = '1a2b3c4d-5e6f-4b7c-8d9e-0f1a2b3c4d5e';
export const CLIENT_CERT_ID = '2b3c4d5e-6f70-4c8d-9eaf-102132435465';

/** Top-level `ca_certificates` (main and other CA) and `certificates` (the gateway's client pair). */
export function pkiEntities(ca: Pem, otherCa: Pem, client: Pem): string {
  return `ca_certificates:
  - id: ${CA_ID}
    cert: ${pemScalar(ca.cert)}
  - id: ${OTHER_CA_ID}
    cert: ${pemScalar(otherCa.cert)}
certificates:
  - id: ${CLIENT_CERT_ID}
    cert: ${pemScalar(client.cert)}
    key: ${pemScalar(client.key)}
`;
}

/**
 * A server certificate for `name` issued by an intermediate CA that `ca` signed, with the chain
 * the server sends (leaf + intermediate): for `tls_verify_depth` (one intermediate).
 */
export function chainedServerCert(ca: Pem, name: string): Pem {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chain-'));
  try {
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'ca.key'), ca.key);
    writeFileSync(join(dir, 'int.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    writeFileSync(join(dir, 'leaf.ext'), `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${name}\n`);
    openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-subj', '/CN=Sluice Test Intermediate', '-out', 'int.csr');
    openssl('x509', '-req', '-in', 'int.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '7001', '-days', '30', '-extfile', 'int.ext', '-out', 'int.crt');
    openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-subj', `/CN=${name}`, '-out', 'leaf.csr');
    openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.crt', '-CAkey', 'int.key', '-set_serial', '7002', '-days', '30', '-extfile', 'leaf.ext', '-out', 'leaf.crt');
    const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
    return { cert: read('leaf.crt') + read('int.crt'), key: read('leaf.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
