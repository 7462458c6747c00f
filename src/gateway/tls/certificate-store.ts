/**
 * The certificates of one config snapshot, ready for handshakes: one `SecureContext` per
 * certificate (RSA and ECDSA pair served together), built once when the snapshot is swapped in,
 * and an index from SNI name to context. Lookup order is Kong's (`kong/runloop/certificate.lua`):
 * the exact name, then the leftmost wildcard (`*.example.com` for `a.example.com`, one label),
 * then the rightmost wildcard (`a.example.*`), then the catch-all SNI `*`, then the listener's
 * default certificate (`ssl_cert` / `ssl_cert_key`, or the generated self-signed one).
 *
 * Node limitation (v20): a context picked by the SNI callback contributes ONE certificate, its
 * last-loaded one; the RSA + ECDSA pair (`cert_alt`) is only served together as the default
 * certificate (the SNI `*`, `ssl_cert`). For a named SNI with `cert_alt` the RSA certificate is
 * served (see `pairOf`), and the default's certificate of the other key type stays loaded.
 *
 * @example
 *   const store = new CertificateStore(snapshot, { fallback: { cert: [pem], key: [keyPem] } });
 *   store.select('api.example.com'); // the SecureContext to answer this handshake with
 */
import { createPrivateKey } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Certificate, Snapshot } from '../../config/types.ts';

/** PEM chains and keys served together (one per key type: RSA + ECDSA). */
export interface PemPair {
  readonly cert: readonly string[];
  readonly key: readonly string[];
}

/** Kong's TLS defaults: TLS 1.2 and 1.3 only, Node's cipher list (no weak suites). */
export const TLS_DEFAULTS = { minVersion: 'TLSv1.2' } as const satisfies SecureContextOptions;

export interface StoreOptions {
  /** Served when no SNI entity matches (and to clients that send no SNI); needed unless there is an SNI `*`. */
  readonly fallback?: PemPair | undefined;
  /** Added to every context, e.g. `{ ca }` to verify client certificates on the internal listener. */
  readonly extra?: SecureContextOptions;
}

export class CertificateStore {
  private readonly byName = new Map<string, SecureContext>();
  /** What the listener serves without a matching SNI (the `*` SNI, else the fallback). */
  readonly defaultPair: PemPair;
  private readonly defaultContext: SecureContext;

  constructor(snapshot: Pick<Snapshot, 'certificates' | 'snis'>, private readonly options: StoreOptions) {
    const contexts = new Map<string, SecureContext>();
    const contextOf = (certificate: Certificate): SecureContext => {
      let context = contexts.get(certificate.id);
      if (context === undefined) contexts.set(certificate.id, (context = this.context(pairOf(certificate))));
      return context;
    };
    let catchAll: Certificate | undefined;
    for (const sni of snapshot.snis) {
      const certificate = snapshot.certificates.get(sni.certificate);
      if (certificate === undefined) continue;
      const name = sni.name.toLowerCase();
      if (name === '*') catchAll = certificate;
      else this.byName.set(name, contextOf(certificate));
    }
    const fallback = catchAll ? pairOf(catchAll) : options.fallback;
    if (fallback === undefined) throw new Error('no default certificate: give a fallback or an SNI named "*"');
    this.defaultPair = fallback;
    this.defaultContext = catchAll ? contextOf(catchAll) : this.context(fallback);
  }

  /** The context for a handshake's SNI (any case; undefined = no SNI sent). */
  select(servername: string | undefined): SecureContext {
    if (!servername) return this.defaultContext;
    const name = servername.toLowerCase();
    const exact = this.byName.get(name);
    if (exact) return exact;
    const firstDot = name.indexOf('.');
    if (firstDot > 0) {
      const prefixed = this.byName.get(`*${name.slice(firstDot)}`);
      if (prefixed) return prefixed;
    }
    const lastDot = name.lastIndexOf('.');
    if (lastDot > 0) {
      const suffixed = this.byName.get(`${name.slice(0, lastDot)}.*`);
      if (suffixed) return suffixed;
    }
    return this.defaultContext;
  }

  /** Options for `server.setSecureContext` / the server constructor: the default certificate. */
  defaultOptions(): SecureContextOptions {
    return { ...TLS_DEFAULTS, ...this.options.extra, cert: [...this.defaultPair.cert], key: [...this.defaultPair.key] };
  }

  private context(pair: PemPair): SecureContext {
    return createSecureContext({ ...TLS_DEFAULTS, ...this.options.extra, cert: [...pair.cert], key: [...pair.key] });
  }
}

/**
 * Node's SNI callback copies only the context's last-loaded certificate onto the connection
 * (the default certificate's other key type stays in place), so a pair is loaded RSA last:
 * every client that accepts RSA then gets this certificate, never the default's.
 */
function pairOf(certificate: Certificate): PemPair {
  const { cert, key, cert_alt: certAlt, key_alt: keyAlt } = certificate;
  if (certAlt === undefined || keyAlt === undefined) return { cert: [cert], key: [key] };
  return createPrivateKey(key).asymmetricKeyType === 'rsa' ? { cert: [certAlt, cert], key: [keyAlt, key] } : { cert: [cert, certAlt], key: [key, keyAlt] };
}
