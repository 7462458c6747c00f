import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { CertificateIn } from './collect.ts';
import type { Report } from './check-route.ts';

/**
 * Certificates must be PEM, keys must be PEM private keys matching their certificate, and an
 * alternate pair (`cert_alt`/`key_alt`) must use a different key type (RSA + ECDSA), as Kong
 * requires. Checked at load time so a bad pair never reaches a TLS listener.
 */
export function checkCertificate(cert: CertificateIn, report: Report): void {
  const main = checkPair(cert.cert, cert.key, 'cert', 'key', report);
  if ((cert.cert_alt === undefined) !== (cert.key_alt === undefined)) {
    report([cert.cert_alt === undefined ? 'key_alt' : 'cert_alt'], "'cert_alt' and 'key_alt' must be set together");
    return;
  }
  if (cert.cert_alt !== undefined && cert.key_alt !== undefined) {
    const alt = checkPair(cert.cert_alt, cert.key_alt, 'cert_alt', 'key_alt', report);
    if (main && alt && main === alt) {
      report(['cert_alt'], `certificate and alternative certificate need to have different type (both are ${main})`);
    }
  }
}

/** Returns the key type when the pair is valid. */
function checkPair(certPem: string, keyPem: string, certField: string, keyField: string, report: Report): string | undefined {
  let x509: X509Certificate | undefined;
  let key: KeyObject | undefined;
  if (!certPem.includes('-----BEGIN CERTIFICATE-----')) {
    report([certField], 'invalid certificate: not a PEM-encoded X.509 certificate');
  } else {
    try {
      x509 = new X509Certificate(certPem);
    } catch (err) {
      report([certField], `invalid certificate: ${reason(err)}`);
    }
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) {
    report([keyField], 'invalid key: not a PEM-encoded private key');
  } else {
    try {
      key = createPrivateKey(keyPem);
    } catch (err) {
      report([keyField], `invalid key: ${reason(err)}`);
    }
  }
  if (!x509 || !key) return undefined;
  if (!x509.checkPrivateKey(key)) {
    report([keyField], `certificate does not match key (certificate subject: ${x509.subject.replace(/\n/g, ', ')})`);
    return undefined;
  }
  return key.asymmetricKeyType;
}

/** jwt_secrets `rsa_public_key` (RS*, ES*, PS*, EdDSA) must be a PEM public key. */
export function publicKeyProblem(pem: string): string | undefined {
  try {
    createPublicKey(pem);
    return undefined;
  } catch (err) {
    return `invalid public key: ${reason(err)}`;
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
