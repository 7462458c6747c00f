/**
 * TLS client helpers for listener tests: what certificate a listener serves for an SNI, and
 * kong.yml text carrying test-time certificates (never committed keys).
 *
 * @example
 *   const peer = await servedCertificate(port, { servername: 'api.example.test' });
 *   peer.subject.CN; // 'api.example.test'
 *   const yaml = certificatesYaml([{ pem: pki.server(['a.test']), snis: ['a.test'] }]);
 */
import { connect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Pem } from './tls.ts';

/** Opens a TLS connection to 127.0.0.1:`port` and resolves once the handshake is done (the caller ends it). */
export function tlsConnect(port: number, options: ConnectionOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** The certificate a TLS listener answers a handshake with (no SNI when `servername` is undefined). */
export async function servedCertificate(port: number, options: ConnectionOptions = {}): Promise<PeerCertificate> {
  const socket = await tlsConnect(port, options);
  try {
    return socket.getPeerCertificate();
  } finally {
    socket.destroy();
  }
}

export interface CertificateEntry {
  readonly pem: Pem;
  /** A second pair of another key type (`cert_alt` / `key_alt`). */
  readonly alt?: Pem;
  readonly snis: readonly string[];
}

/** kong.yml text (JSON is YAML) with these certificates, plus any other top-level entities. */
export function certificatesYaml(entries: readonly CertificateEntry[], rest: Record<string, unknown> = {}): string {
  return JSON.stringify({
    _format_version: '3.0',
    certificates: entries.map(({ pem, alt, snis }) => ({
      cert: pem.cert,
      key: pem.key,
      ...(alt ? { cert_alt: alt.cert, key_alt: alt.key } : {}),
      snis: snis.map((name) => ({ name })),
    })),
    ...rest,
  });
}
