/**
 * A throwaway PKI made at test time with Debian's `openssl` (no private key is ever committed).
 *
 * @example
 *   const pki = testPki();
 *   const server = pki.server(['localhost', '*.example.test', '127.0.0.1']);
 *   const client = pki.client('publisher-1');              // signed by pki.ca
 *   const stranger = pki.client('intruder', { ca: 'other' }); // signed by another CA
 *   const stale = pki.client('old', { expired: true });
 *   tls.connect({ ca: pki.ca.cert, cert: client.cert, key: client.key, ... });
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM certificate and its PEM private key. */
export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface CertOptions {
  /** Which CA signs it (default `main`). */
  readonly ca?: 'main' | 'other';
  /** Valid only in 2020: expired today. */
  readonly expired?: boolean;
  /** `rsa` (default, 2048 bits) or `ec` (P-256). */
  readonly keyType?: 'rsa' | 'ec';
}

export interface TestPki {
  /** The CA the gateway trusts (`SLUICE_INTERNAL_CLIENT_CA`, upstream `ca_certificates`). */
  readonly ca: Pem;
  /** A CA nobody trusts. */
  readonly otherCa: Pem;
  /** A server certificate for `names` (DNS names, wildcards or IP addresses); the first is the CN. */
  server(names: readonly string[], options?: CertOptions): Pem;
  /** A client certificate (extendedKeyUsage clientAuth) with subject `CN=<commonName>,O=Sluice Tests`. */
  client(commonName: string, options?: CertOptions): Pem;
}

let shared: TestPki | undefined;

/** The process-wide test PKI, made on first use (about a second of `openssl`). */
export function testPki(): TestPki {
  shared ??= createPki();
  return shared;
}

function createPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pki-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  let serial = 0;
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');

  const newKey = (name: string, keyType: 'rsa' | 'ec' = 'rsa'): void => {
    if (keyType === 'ec') openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    else openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`);
  };

  const makeCa = (name: string, cn: string): Pem => {
    newKey(name);
    openssl('req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}/O=Sluice Tests`, '-days', '3650', '-sha256',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}.crt`);
    return { cert: read(`${name}.crt`), key: read(`${name}.key`) };
  };

  /** Signs `name.csr` with a CA; `x509 -req` cannot backdate, so expired certs go through a fixed-date `openssl ca`. */
  const sign = (name: string, extensions: string, options: CertOptions): Pem => {
    const ca = options.ca === 'other' ? 'other-ca' : 'ca';
    writeFileSync(join(dir, `${name}.ext`), extensions);
    if (options.expired) {
      writeFileSync(join(dir, `${name}.index`), '');
      writeFileSync(join(dir, `${name}.cnf`), [
        '[ca]', 'default_ca = test_ca', '[test_ca]', `database = ${name}.index`, 'new_certs_dir = .',
        `certificate = ${ca}.crt`, `private_key = ${ca}.key`, `serial = ${name}.serial`, 'default_md = sha256',
        'policy = anything', 'unique_subject = no', 'copy_extensions = none', '[anything]', 'commonName = supplied',
        'organizationName = optional', '',
      ].join('\n'));
      writeFileSync(join(dir, `${name}.serial`), `${(++serial + 1000).toString(16).padStart(4, '0')}\n`);
      openssl('ca', '-batch', '-notext', '-config', `${name}.cnf`, '-in', `${name}.csr`, '-out', `${name}.crt`,
        '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-extfile', `${name}.ext`);
    } else {
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', String(++serial + 1000),
        '-days', '825', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    }
    return { cert: read(`${name}.crt`), key: read(`${name}.key`) };
  };

  const leaf = (name: string, cn: string, extensions: string, options: CertOptions): Pem => {
    newKey(name, options.keyType);
    openssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}/O=Sluice Tests`, '-out', `${name}.csr`);
    return sign(name, extensions, options);
  };

  const ca = makeCa('ca', 'Sluice Test CA');
  const otherCa = makeCa('other-ca', 'Someone Else CA');
  let leaves = 0;
  return {
    ca,
    otherCa,
    server(names, options = {}) {
      const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
      const ext = `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`;
      return leaf(`server-${++leaves}`, names[0] ?? 'localhost', ext, options);
    },
    client(commonName, options = {}) {
      const ext = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
      return leaf(`client-${++leaves}`, commonName, ext, options);
    },
  };
}
