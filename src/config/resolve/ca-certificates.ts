import { X509Certificate } from 'node:crypto';
import type { CaCertificateIn, EntityNode } from '../collect.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import type { CaCertificate } from '../types.ts';
import type { ResolveContext } from './context.ts';

export interface ResolvedCaCertificates {
  /** For services' `ca_certificates` (by id only: CA certificates have no name). */
  readonly index: EntityIndex<unknown>;
  readonly caCertificates: Map<string, CaCertificate>;
}

const BEGIN = '-----BEGIN CERTIFICATE-----';

/**
 * CA certificates with Kong's checks: exactly one PEM certificate, a CA (basic constraint),
 * not expired; `cert_digest` computed (hex SHA-256 of the DER) and unique.
 */
export function resolveCaCertificates(nodes: readonly EntityNode<CaCertificateIn>[], ctx: ResolveContext): ResolvedCaCertificates {
  const index = new EntityIndex<unknown>('ca_certificates', ctx.sink);
  const caCertificates = new Map<string, CaCertificate>();
  for (const node of nodes) {
    const v = node.value;
    const x509 = typeof v.cert === 'string' ? parse(v.cert) : undefined;
    const digest = x509 instanceof X509Certificate ? x509.fingerprint256.replace(/:/g, '').toLowerCase() : undefined;
    node.id = entityId('ca_certificates', v.id, digest !== undefined ? `digest:${digest}` : undefined);
    index.addId(node, undefined);
    if (!node.usable) continue;
    const report = ctx.reportFor(node, undefined);
    if (!(x509 instanceof X509Certificate)) {
      report(['cert'], x509 ?? 'invalid certificate');
      continue;
    }
    if (v.cert.split(BEGIN).length > 2) {
      report(['cert'], 'please submit only one certificate at a time');
      continue;
    }
    if (Date.parse(x509.validTo) < Date.now()) {
      report(['cert'], 'certificate expired, "Not After" time is in the past');
      continue;
    }
    if (!x509.ca) {
      report(['cert'], 'certificate does not appear to be a CA because it is missing the "CA" basic constraint');
      continue;
    }
    if (!index.addKey(node, 'cert_digest', digest!, undefined, [...node.path, 'cert'])) continue;
    caCertificates.set(node.id, { id: node.id, cert: v.cert, cert_digest: digest!, tags: v.tags ?? [] });
  }
  return { index, caCertificates };
}

/** The certificate, or why it is not one. */
function parse(pem: string): X509Certificate | string {
  if (!pem.includes(BEGIN)) return 'invalid certificate: not a PEM-encoded X.509 certificate';
  try {
    return new X509Certificate(pem);
  } catch (error) {
    return `invalid certificate: ${error instanceof Error ? error.message : String(error)}`;
  }
}
