import { createHash } from 'node:crypto';
import { checkCertificate } from '../check-certificate.ts';
import type { CertificateIn, EntityNode, SniIn } from '../collect.ts';
import { wildcardHostProblem } from '../hostnames.ts';
import { entityId } from '../ids.ts';
import { EntityIndex } from '../index-by-key.ts';
import type { Certificate, Sni } from '../types.ts';
import { invalidReference, label, type ResolveContext } from './context.ts';

/** A certificate whose SNI names are still being collected, by certificate id. */
type Pending = Map<string, { cert: Omit<Certificate, 'snis'>; snis: string[] }>;

export interface ResolvedCertificates {
  readonly certificates: Map<string, Certificate>;
  readonly snis: Sni[];
}

/** Certificates with the SNI names (nested or top-level) that select them. */
export function resolveCertificates(
  certificateNodes: readonly EntityNode<CertificateIn>[],
  sniNodes: readonly EntityNode<SniIn>[],
  ctx: ResolveContext,
): ResolvedCertificates {
  const index = new EntityIndex<unknown>('certificates', ctx.sink);
  const pending: Pending = new Map();
  for (const node of certificateNodes) {
    const v = node.value;
    // Certificates have no name: the PEM itself is the key.
    node.id = entityId('certificates', v.id, typeof v.cert === 'string' ? `cert:${createHash('sha256').update(v.cert).digest('hex')}` : undefined);
    index.addId(node, undefined);
    if (!node.usable) continue;
    checkCertificate(v, ctx.reportFor(node, undefined));
    pending.set(node.id, {
      cert: {
        id: node.id,
        cert: v.cert,
        key: v.key,
        ...(v.cert_alt !== undefined ? { cert_alt: v.cert_alt } : {}),
        ...(v.key_alt !== undefined ? { key_alt: v.key_alt } : {}),
        tags: v.tags ?? [],
      },
      snis: [],
    });
  }
  const snis = resolveSnis(sniNodes, index, pending, ctx);

  const certificates = new Map<string, Certificate>();
  for (const { cert, snis: names } of pending.values()) certificates.set(cert.id, { ...cert, snis: names });
  return { certificates, snis };
}

function resolveSnis(nodes: readonly EntityNode<SniIn>[], certificates: EntityIndex<unknown>, pending: Pending, ctx: ResolveContext): Sni[] {
  const index = new EntityIndex<unknown>('snis', ctx.sink);
  const snis: Sni[] = [];
  for (const node of nodes) {
    const v = node.value;
    const entity = label('sni', v.name);
    const report = ctx.reportFor(node, entity);
    // Host names are case-insensitive, so `A.com` and `a.com` are the same SNI.
    node.id = entityId('snis', v.id, typeof v.name === 'string' ? v.name.toLowerCase() : undefined);
    index.addId(node, entity);
    if (typeof v.name === 'string') index.addKey(node, 'name', v.name.toLowerCase(), entity);
    if (!node.usable) continue;
    // Kong 3: an SNI named `*` is the catch-all (the listener's default certificate).
    const problem = v.name === '*' ? undefined : wildcardHostProblem(v.name);
    if (problem) report(['name'], problem);
    const parent = node.parent ?? (v.certificate !== undefined ? certificates.resolve(v.certificate, []) : undefined);
    if (!parent) {
      report(['certificate'], invalidReference('certificate', v.certificate!));
      continue;
    }
    snis.push({ id: node.id, name: v.name, certificate: parent.id, tags: v.tags ?? [] });
    pending.get(parent.id)?.snis.push(v.name);
  }
  return snis;
}
