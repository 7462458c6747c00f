/**
 * The TLS node settings (kong.conf names): `ssl_cert` / `ssl_cert_key` (the `ssl` listeners'
 * default certificate, comma-separated paths for an RSA + ECDSA pair) and `internal_client_ca`
 * (the CA whose client certificates the internal listener demands). Files are read when the
 * settings are, so a missing file or a non-PEM one is a start-up error naming the setting.
 *
 * @example
 *   readPemFiles('/etc/sluice/cert.pem', 'certificate'); // ['-----BEGIN CERTIFICATE-----…']
 *   checkTlsSettings({ ssl_cert, ssl_cert_key, internal_client_ca, internal_listen }, sourceOf);
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';

export interface TlsNodeSettings {
  /** PEM certificate chains, one per key type. */
  readonly ssl_cert?: readonly string[];
  /** PEM private keys, in the order of `ssl_cert`. */
  readonly ssl_cert_key?: readonly string[];
  /** PEM CA certificate(s) for the internal listener's client certificates. */
  readonly internal_client_ca?: string;
}

const MARKERS = { certificate: /-----BEGIN CERTIFICATE-----/, 'private key': /-----BEGIN [A-Z ]*PRIVATE KEY-----/ } as const;

/** `a.pem, b.pem` → their PEM texts; throws (the caller adds the setting's source) when unreadable or not PEM. */
export function readPemFiles(value: string, what: keyof typeof MARKERS): string[] {
  return value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '').map((path) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`cannot read ${what} file "${path}": ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    if (!MARKERS[what].test(text)) throw new Error(`"${path}" is not a PEM-encoded ${what}`);
    return text;
  });
}

interface TlsCheckInput extends TlsNodeSettings {
  readonly internal_listen: readonly { readonly host: string; readonly port: number; readonly ssl?: boolean }[];
}

/** Cross-setting checks; `sourceOf('ssl_cert')` names where a value came from (`SLUICE_SSL_CERT`). */
export function checkTlsSettings(s: TlsCheckInput, sourceOf: (name: 'ssl_cert' | 'ssl_cert_key' | 'internal_client_ca') => string): void {
  if ((s.ssl_cert === undefined) !== (s.ssl_cert_key === undefined)) {
    const missing = s.ssl_cert === undefined ? 'ssl_cert' : 'ssl_cert_key';
    throw new Error(`${sourceOf(missing === 'ssl_cert' ? 'ssl_cert_key' : 'ssl_cert')}: ssl_cert and ssl_cert_key must be set together (${missing} is missing)`);
  }
  if (s.ssl_cert !== undefined && s.ssl_cert_key !== undefined) {
    if (s.ssl_cert.length !== s.ssl_cert_key.length) {
      throw new Error(`${sourceOf('ssl_cert_key')}: ${s.ssl_cert.length} certificate(s) in ssl_cert but ${s.ssl_cert_key.length} key(s) in ssl_cert_key`);
    }
    s.ssl_cert.forEach((cert, i) => {
      const key = s.ssl_cert_key?.[i] ?? '';
      let matches: boolean;
      try {
        matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
      } catch (error) {
        throw new Error(`${sourceOf('ssl_cert')}: unusable certificate or key #${i + 1}: ${(error as Error).message}`);
      }
      if (!matches) throw new Error(`${sourceOf('ssl_cert_key')}: key #${i + 1} does not match certificate #${i + 1} of ssl_cert`);
    });
  }
  if (s.internal_client_ca !== undefined) {
    const plain = s.internal_listen.filter((address) => address.ssl !== true);
    if (s.internal_listen.length === 0 || plain.length > 0) {
      const where = plain[0] ? `internal_listen ${plain[0].host}:${plain[0].port} has no ssl flag` : 'internal_listen is off';
      throw new Error(`${sourceOf('internal_client_ca')}: internal_client_ca needs every internal listener to use ssl (${where})`);
    }
    try {
      new X509Certificate(s.internal_client_ca);
    } catch (error) {
      throw new Error(`${sourceOf('internal_client_ca')}: not a usable CA certificate: ${(error as Error).message}`);
    }
  }
}
