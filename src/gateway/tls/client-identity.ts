/**
 * Who a verified client certificate says the peer is (the internal listener's mTLS): its subject
 * and SHA-256 fingerprint, for the access log. Only a certificate the handshake verified
 * against `internal_client_ca` counts; a plain or unverified connection has no identity.
 *
 * @example
 *   clientCertIdentity(req.socket); // { subject: 'CN=publisher-1,O=Sluice Tests', fingerprint: 'AB:CD:…' }
 */
import { TLSSocket } from 'node:tls';

export interface ClientCertIdentity {
  /** Subject DN, its attributes joined with commas in certificate order, e.g. `CN=publisher-1,O=Acme`. */
  readonly subject: string;
  /** SHA-256 fingerprint, upper-case hex pairs joined by colons (as `openssl x509 -fingerprint -sha256`). */
  readonly fingerprint: string;
}

export function clientCertIdentity(socket: unknown): ClientCertIdentity | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return undefined;
  return { subject: cert.subject.split('\n').join(','), fingerprint: cert.fingerprint256 };
}
