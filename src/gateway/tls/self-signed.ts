/**
 * Kong's answer to an `ssl` listener without any certificate: a self-signed default
 * (`CN=localhost`), made once per process when a handshake first needs it. Node cannot write an
 * X.509 certificate by itself, so this runs Debian's `openssl` (RSA 2048, valid ten years: RSA
 * because an SNI certificate replaces only the default's slot of its own key type, see
 * certificate-store.ts); where there is no `openssl`, the listener refuses to start with a one-line error that
 * names the fix (`ssl_cert` / `ssl_cert_key`, or a certificate with the catch-all SNI `*`).
 *
 * @example
 *   const pair = generateSelfSigned(); // { cert: ['-----BEGIN CERTIFICATE-----…'], key: ['-----BEGIN PRIVATE KEY-----…'] }
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PemPair } from './certificate-store.ts';

/** The `ssl` listener has no certificate and none could be made. */
export class TlsSetupError extends Error {
  override readonly name = 'TlsSetupError';
}

export const SELF_SIGNED_SUBJECT = '/CN=localhost/O=Sluice self-signed default';

export function generateSelfSigned(): PemPair {
  // mkdtemp makes the directory 0700: the key is only ever readable by this user, and only for a moment.
  const dir = mkdtempSync(join(tmpdir(), 'sluice-default-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
      '-subj', SELF_SIGNED_SUBJECT, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '-keyout', 'default.key', '-out', 'default.crt',
    ], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    return { cert: [readFileSync(join(dir, 'default.crt'), 'utf8')], key: [readFileSync(join(dir, 'default.key'), 'utf8')] };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'openssl is not installed' : (error as Error).message.split('\n')[0];
    throw new TlsSetupError(`an ssl listener has no certificate and the self-signed default could not be made (${reason}): set ssl_cert and ssl_cert_key, or add a certificate with the SNI "*"`, { cause: error });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
