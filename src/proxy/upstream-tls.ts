import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { checkServerIdentity, type ConnectionOptions, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { buildConnector } from 'undici';
import type { CaCertificate, Certificate, Service } from '../config/types.ts';
import { GatewayError } from '../gateway/errors.ts';

/**
 * The TLS side of a service's upstream connections (Kong's Service `tls_verify`,
 * `tls_verify_depth`, `ca_certificates`, `client_certificate`), turned into Node TLS options.
 *
 * Verification default: Kong leaves `tls_verify` null, which means nginx's `proxy_ssl_verify
 * off`: any certificate is accepted, so anyone on the path can impersonate the upstream. Sluice
 * verifies by default instead (node setting `upstream_tls_verify`, default `on`); a service's own
 * `tls_verify` wins either way, and `upstream_tls_verify = off` gives Kong's behaviour back for a
 * migration. The trust store is the service's `ca_certificates`, else Node's bundled roots (plus
 * `NODE_EXTRA_CA_CERTS`), which is what "the system store" means for a Node process.
 *
 * ```ts
 * const tls = upstreamTls(service, snapshot, true); // undefined for an http service
 * new Pool(origin, { connect: { ...tlsConnectOptions(tls), timeout } });
 * ```
 */
export interface UpstreamTls {
  readonly verify: boolean;
  /** PEM CA certificates; undefined = Node's default trust store. */
  readonly ca?: readonly string[];
  /** Client certificate and key (mutual TLS). */
  readonly cert?: string;
  readonly key?: string;
  /** Most intermediate CAs allowed between the upstream's certificate and a trusted CA. */
  readonly verifyDepth?: number;
  /** Digest of everything above: connections (and TLS sessions) are never shared across profiles. */
  readonly fingerprint: string;
}

/** Where a service's certificate references point (the snapshot the service belongs to). */
export interface UpstreamPki {
  readonly certificates: ReadonlyMap<string, Certificate>;
  readonly ca_certificates: ReadonlyMap<string, CaCertificate>;
}

const NO_PKI: UpstreamPki = { certificates: new Map(), ca_certificates: new Map() };

export function isTlsProtocol(protocol: Service['protocol']): boolean {
  return protocol === 'https' || protocol === 'wss' || protocol === 'grpcs' || protocol === 'tls';
}

/** The service's TLS profile, or undefined when it does not speak TLS. */
export function upstreamTls(service: Service, pki: UpstreamPki = NO_PKI, defaultVerify = true): UpstreamTls | undefined {
  if (!isTlsProtocol(service.protocol)) return undefined;
  const verify = service.tls_verify ?? defaultVerify;
  let ca: string[] | undefined;
  if (service.ca_certificates !== undefined && service.ca_certificates.length > 0) {
    ca = service.ca_certificates.map((id) => {
      const found = pki.ca_certificates.get(id);
      if (found === undefined) throw new Error(`service ${service.id}: ca_certificate ${id} is not in the snapshot`);
      return found.cert;
    });
  }
  let client: Certificate | undefined;
  if (service.client_certificate !== undefined) {
    client = pki.certificates.get(service.client_certificate);
    if (client === undefined) throw new Error(`service ${service.id}: certificate ${service.client_certificate} is not in the snapshot`);
  }
  const profile = {
    verify,
    ...(ca !== undefined ? { ca } : {}),
    ...(client !== undefined ? { cert: client.cert, key: client.key } : {}),
    ...(service.tls_verify_depth !== undefined ? { verifyDepth: service.tls_verify_depth } : {}),
  };
  const fingerprint = createHash('sha256').update(JSON.stringify(profile)).digest('hex').slice(0, 32);
  return { ...profile, fingerprint };
}

/** Options for `tls.connect` (undici's `connect`, `https.request`) from a profile. */
export function tlsConnectOptions(tls: UpstreamTls): ConnectionOptions {
  return {
    rejectUnauthorized: tls.verify,
    ...(tls.ca !== undefined ? { ca: [...tls.ca] } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}),
    ...(tls.verify && tls.verifyDepth !== undefined ? { checkServerIdentity: depthLimitedIdentity(tls.verifyDepth) } : {}),
  };
}

/**
 * Node has no verify-depth option, so the limit is checked where Node hands over the verified
 * chain: after the host name check, count the CAs between the certificate and its self-issued
 * root (OpenSSL's depth: 0 = signed directly by a trusted CA).
 */
function depthLimitedIdentity(depth: number): (hostname: string, cert: PeerCertificate) => Error | undefined {
  return (hostname, cert) => {
    const identity = checkServerIdentity(hostname, cert);
    if (identity !== undefined) return identity;
    let intermediates = 0;
    let current = cert as DetailedPeerCertificate;
    for (;;) {
      const issuer = current.issuerCertificate as DetailedPeerCertificate | undefined;
      if (issuer === undefined || issuer === current || issuer.fingerprint256 === current.fingerprint256) break;
      if (issuer.issuerCertificate === undefined || issuer.issuerCertificate === issuer || issuer.issuerCertificate.fingerprint256 === issuer.fingerprint256) break;
      intermediates++;
      current = issuer;
    }
    if (intermediates <= depth) return undefined;
    return Object.assign(new Error(`certificate chain too long: ${intermediates} intermediate CAs, tls_verify_depth is ${depth}`), { code: 'CERT_CHAIN_TOO_LONG' });
  };
}

/** OpenSSL's verification results as Node names them, plus Node's own host name mismatch. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A TLS failure as a gateway error: the upstream's certificate was refused
 * (UPSTREAM_TLS_VERIFY_FAILED) or the handshake broke down otherwise (UPSTREAM_TLS_HANDSHAKE_FAILED:
 * no common protocol, our client certificate refused, plain HTTP on a TLS port). The detail
 * names OpenSSL's reason; clients only see Kong's generic 502.
 */
export function tlsGatewayError(code: string, error: unknown): GatewayError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (VERIFY_CODES.has(code)) return new GatewayError('UPSTREAM_TLS_VERIFY_FAILED', { detail: `${code}: ${message}`, cause: error });
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code.startsWith('ERR_TLS_')) {
    return new GatewayError('UPSTREAM_TLS_HANDSHAKE_FAILED', { detail: `${code}: ${message}`, cause: error });
  }
  return undefined;
}

const isTlsCode = (code: unknown): boolean => typeof code === 'string' && (code.startsWith('ERR_SSL_') || code === 'EPROTO');

/**
 * undici's connector for a TLS profile, keeping TLS alerts that arrive after the handshake. In
 * TLS 1.3 the server checks our client certificate after we consider the handshake done: its
 * refusal (`ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`) arrives while the request waits for a
 * response, and undici then replaces it with a bare "other side closed" when the connection
 * ends. The socket's next destroy is handed the alert instead, so the request fails with it.
 */
export function tlsConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (opts, callback) =>
    connect(opts, (...args) => {
      const socket = args[1];
      if (socket) keepTlsAlert(socket);
      callback(...args);
    });
}

function keepTlsAlert(socket: Socket): void {
  let alert: Error | undefined;
  socket.prependListener('error', (error: Error & { code?: unknown }) => {
    if (alert === undefined && isTlsCode(error.code)) alert = error;
  });
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error) => destroy(alert ?? error);
}
