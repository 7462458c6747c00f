/**
 * TLS for the gateway's `ssl` listeners: the server options each one is created with (an SNI
 * callback reading the CURRENT snapshot's certificates, the default certificate, TLS 1.2+,
 * client-certificate checks on the internal listener), and the swap on reload. Handshakes that
 * start after `update` get the new certificates; open connections are not touched.
 *
 * @example
 *   const tls = new ListenerTls({ internalClientCa: caPem }, snapshot);
 *   const server = https.createServer({ ...tls.serverOptions('proxy'), ...httpOptions }, onRequest);
 *   tls.attach(server, 'proxy');   // or an http2 secure server: anything that is a tls.Server
 *   tls.update(nextSnapshot);      // on reload; throws (nothing changed) if a certificate is unusable
 */
import type { SecureContextOptions, Server as TlsServer, TlsOptions } from 'node:tls';
import type { Snapshot } from '../../config/types.ts';
import { CertificateStore, type PemPair } from './certificate-store.ts';
import { generateSelfSigned } from './self-signed.ts';

export interface ListenerTlsSettings {
  /** `ssl_cert` / `ssl_cert_key`: served when no SNI entity matches. Default: a generated self-signed one. */
  readonly defaultCertificate?: PemPair;
  /** `internal_client_ca` (PEM): the internal listener then demands a client certificate signed by it. */
  readonly internalClientCa?: string;
}

/** The listener names, as the gateway's `ListenerName`. */
export type TlsListenerName = 'proxy' | 'admin' | 'internal' | 'status';

/** Listeners that verify client certificates use contexts with the CA added. */
type Profile = 'server' | 'mtls';

export class ListenerTls {
  private snapshot: Pick<Snapshot, 'certificates' | 'snis'>;
  private readonly stores = new Map<Profile, CertificateStore>();
  private readonly servers: { server: TlsServer; profile: Profile }[] = [];
  private generated: PemPair | undefined;

  constructor(private readonly settings: ListenerTlsSettings, snapshot: Pick<Snapshot, 'certificates' | 'snis'>) {
    this.snapshot = snapshot;
  }

  /** Whether `listener` checks client certificates (the internal listener with `internal_client_ca`). */
  verifiesClients(listener: TlsListenerName): boolean {
    return listener === 'internal' && this.settings.internalClientCa !== undefined;
  }

  /**
   * Options to create `listener`'s TLS server with (`https.createServer`, `http2.createSecureServer`).
   * Throws a `TlsSetupError` when there is no certificate at all and none can be generated.
   */
  serverOptions(listener: TlsListenerName): TlsOptions {
    const profile = this.profileOf(listener);
    const store = this.store(profile);
    return {
      ...store.defaultOptions(),
      SNICallback: (servername, done) => {
        try {
          done(null, this.store(profile).select(servername));
        } catch (error) {
          done(error as Error);
        }
      },
      ...(profile === 'mtls' ? { requestCert: true, rejectUnauthorized: true } : {}),
    };
  }

  /** Follow reloads: `server`'s default certificate (no SNI) is replaced on `update`. */
  attach(server: TlsServer, listener: TlsListenerName): void {
    this.servers.push({ server, profile: this.profileOf(listener) });
  }

  /**
   * Swaps in `snapshot`'s certificates. Every context is built before anything changes, so a
   * failure (thrown) leaves the running certificates in place.
   */
  update(snapshot: Pick<Snapshot, 'certificates' | 'snis'>): void {
    const next = new Map<Profile, CertificateStore>();
    for (const profile of this.stores.keys()) next.set(profile, this.build(profile, snapshot));
    this.snapshot = snapshot;
    for (const [profile, store] of next) this.stores.set(profile, store);
    for (const { server, profile } of this.servers) {
      const store = this.stores.get(profile);
      if (store) server.setSecureContext(store.defaultOptions());
    }
  }

  private profileOf(listener: TlsListenerName): Profile {
    return this.verifiesClients(listener) ? 'mtls' : 'server';
  }

  /** Stores are built on first use: a node without `ssl` listeners never builds one. */
  private store(profile: Profile): CertificateStore {
    let store = this.stores.get(profile);
    if (store === undefined) this.stores.set(profile, (store = this.build(profile, this.snapshot)));
    return store;
  }

  private build(profile: Profile, snapshot: Pick<Snapshot, 'certificates' | 'snis'>): CertificateStore {
    const extra: SecureContextOptions | undefined = profile === 'mtls' ? { ca: this.settings.internalClientCa } : undefined;
    const catchAll = snapshot.snis.some((sni) => sni.name === '*');
    // The generated default is only made when something would serve it.
    const fallback = this.settings.defaultCertificate ?? (catchAll ? undefined : this.selfSigned());
    return new CertificateStore(snapshot, { fallback, ...(extra ? { extra } : {}) });
  }

  private selfSigned(): PemPair {
    this.generated ??= generateSelfSigned();
    return this.generated;
  }
}
