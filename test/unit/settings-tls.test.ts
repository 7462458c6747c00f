import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings, SettingsError } from '../../src/config/settings.ts';
import { testPki } from '../helpers/tls.ts';

describe('TLS settings: ssl_cert, ssl_cert_key, internal_client_ca', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-settings-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  let cert: string, key: string, otherKey: string, ca: string;

  before(() => {
    const pki = testPki();
    const server = pki.server(['localhost']);
    cert = file('cert.pem', server.cert);
    key = file('key.pem', server.key);
    otherKey = file('other-key.pem', pki.server(['other.test']).key);
    ca = file('ca.pem', pki.ca.cert);
  });

  const settings = (env: Record<string, string>) => resolveSettings({ env, flags: {} });

  test('certificate and key files are read from SLUICE_SSL_CERT / SLUICE_SSL_CERT_KEY', () => {
    const s = settings({ SLUICE_SSL_CERT: cert, SLUICE_SSL_CERT_KEY: key });
    assert.match(s.ssl_cert?.[0] ?? '', /BEGIN CERTIFICATE/);
    assert.match(s.ssl_cert_key?.[0] ?? '', /PRIVATE KEY/);
  });

  test('a missing file is an error naming the setting and the path', () => {
    assert.throws(() => settings({ SLUICE_SSL_CERT: join(dir, 'nope.pem'), SLUICE_SSL_CERT_KEY: key }),
      (error: Error) => error instanceof SettingsError && /^SLUICE_SSL_CERT: cannot read certificate file ".*nope\.pem": no such file$/.test(error.message));
  });

  test('a file that is not PEM is an error', () => {
    assert.throws(() => settings({ SLUICE_SSL_CERT: file('junk.pem', 'hello'), SLUICE_SSL_CERT_KEY: key }), /SLUICE_SSL_CERT: ".*junk\.pem" is not a PEM-encoded certificate/);
    assert.throws(() => settings({ SLUICE_SSL_CERT: cert, SLUICE_SSL_CERT_KEY: cert }), /SLUICE_SSL_CERT_KEY: ".*cert\.pem" is not a PEM-encoded private key/);
  });

  test('ssl_cert without ssl_cert_key (and the reverse) is an error', () => {
    assert.throws(() => settings({ SLUICE_SSL_CERT: cert }), /SLUICE_SSL_CERT: ssl_cert and ssl_cert_key must be set together \(ssl_cert_key is missing\)/);
    assert.throws(() => settings({ SLUICE_SSL_CERT_KEY: key }), /SLUICE_SSL_CERT_KEY: .*\(ssl_cert is missing\)/);
  });

  test('a key that does not belong to the certificate is an error', () => {
    assert.throws(() => settings({ SLUICE_SSL_CERT: cert, SLUICE_SSL_CERT_KEY: otherKey }), /SLUICE_SSL_CERT_KEY: key #1 does not match certificate #1 of ssl_cert/);
  });

  test('internal_client_ca needs an ssl internal listener', () => {
    assert.throws(() => settings({ SLUICE_INTERNAL_CLIENT_CA: ca }),
      /SLUICE_INTERNAL_CLIENT_CA: internal_client_ca needs every internal listener to use ssl \(internal_listen 127\.0\.0\.1:8010 has no ssl flag\)/);
    assert.throws(() => settings({ SLUICE_INTERNAL_CLIENT_CA: ca, SLUICE_INTERNAL_LISTEN: 'off' }), /internal_listen is off/);
    assert.throws(() => settings({ SLUICE_INTERNAL_CLIENT_CA: ca, SLUICE_INTERNAL_LISTEN: '127.0.0.1:8443 ssl, 127.0.0.1:8010' }), /127\.0\.0\.1:8010 has no ssl flag/);
    const s = settings({ SLUICE_INTERNAL_CLIENT_CA: ca, SLUICE_INTERNAL_LISTEN: '127.0.0.1:8443 ssl' });
    assert.match(s.internal_client_ca ?? '', /BEGIN CERTIFICATE/);
  });

  test('internal_client_ca that is missing or not PEM is an error naming the setting', () => {
    assert.throws(() => settings({ SLUICE_INTERNAL_CLIENT_CA: join(dir, 'none.pem'), SLUICE_INTERNAL_LISTEN: '127.0.0.1:8443 ssl' }), /SLUICE_INTERNAL_CLIENT_CA: cannot read certificate file ".*none\.pem": no such file/);
    assert.throws(() => settings({ SLUICE_INTERNAL_CLIENT_CA: key, SLUICE_INTERNAL_LISTEN: '127.0.0.1:8443 ssl' }), /SLUICE_INTERNAL_CLIENT_CA: ".*key\.pem" is not a PEM-encoded certificate/);
  });
});
