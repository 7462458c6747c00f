import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request, Agent } from 'undici';
import { startGateway, snapshotFrom, type TestGateway } from '../helpers/gateway.ts';
import { testPki, type Pem } from '../helpers/tls.ts';
import { certificatesYaml, servedCertificate, tlsConnect } from '../helpers/tls-client.ts';

const SSL = { host: '127.0.0.1', port: 0, ssl: true };
const listen = { proxy: [SSL], admin: [], internal: [], status: [] };

function portOf(address: string | undefined): number {
  return Number((address ?? '').split(':').pop());
}

describe('ssl proxy listener: certificate chosen by SNI', () => {
  const pki = testPki();
  let exact: Pem, wildcard: Pem, suffix: Pem, catchAll: Pem, ecdsa: Pem;
  let gw: TestGateway;
  let port: number;

  before(async () => {
    exact = pki.server(['api.example.test']);
    wildcard = pki.server(['*.example.test']);
    suffix = pki.server(['shop.example.*']);
    catchAll = pki.server(['catch-all.test']);
    ecdsa = pki.server(['api.example.test'], { keyType: 'ec' });
    const yaml = certificatesYaml(
      [
        { pem: exact, alt: ecdsa, snis: ['api.example.test'] },
        { pem: wildcard, snis: ['*.example.test'] },
        { pem: suffix, snis: ['shop.example.*'] },
        { pem: catchAll, snis: ['*'] },
      ],
      { routes: [{ name: 'hello', paths: ['/hello'], plugins: [{ name: 'request-termination', config: { status_code: 200, message: 'hello over tls' } }] }] },
    );
    gw = await startGateway(yaml, { listen });
    port = portOf(gw.gateway.addresses.proxy[0]);
  });
  after(() => gw.close());

  test('an exact SNI gets its own certificate', async () => {
    const peer = await servedCertificate(port, { servername: 'api.example.test' });
    assert.equal(peer.subject.CN, 'api.example.test');
  });

  test('SNI names are compared without case', async () => {
    const peer = await servedCertificate(port, { servername: 'API.Example.TEST' });
    assert.equal(peer.subject.CN, 'api.example.test');
  });

  test('a leftmost wildcard SNI covers one label', async () => {
    assert.equal((await servedCertificate(port, { servername: 'www.example.test' })).subject.CN, '*.example.test');
    // Two labels deep is not covered by `*.example.test`: the catch-all answers.
    assert.equal((await servedCertificate(port, { servername: 'a.b.example.test' })).subject.CN, 'catch-all.test');
  });

  test('a rightmost wildcard SNI covers the last label', async () => {
    assert.equal((await servedCertificate(port, { servername: 'shop.example.org' })).subject.CN, 'shop.example.*');
  });

  test('an unknown SNI, or none at all, gets the certificate of the SNI "*"', async () => {
    assert.equal((await servedCertificate(port, { servername: 'nobody.test' })).subject.CN, 'catch-all.test');
    assert.equal((await servedCertificate(port)).subject.CN, 'catch-all.test');
  });

  test('cert_alt/key_alt on a named SNI: the RSA certificate is served (Node serves one certificate per SNI context)', async () => {
    const rsa = await servedCertificate(port, { servername: 'api.example.test' });
    assert.equal(rsa.fingerprint256, new X509Certificate(exact.cert).fingerprint256);
  });

  test('a client that verifies against the CA gets an answer over https', async () => {
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert, servername: 'api.example.test' } });
    try {
      const res = await request(`https://127.0.0.1:${port}/hello`, { dispatcher, headers: { host: 'api.example.test' } });
      assert.equal(res.statusCode, 200);
      assert.equal(((await res.body.json()) as { message: string }).message, 'hello over tls');
    } finally {
      await dispatcher.close();
    }
  });

  test('TLS 1.1 and older clients are refused at the handshake', async () => {
    await assert.rejects(
      tlsConnect(port, { servername: 'api.example.test', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      (error: NodeJS.ErrnoException) => /protocol version|unsupported protocol|no protocols available/i.test(`${error.code} ${error.message}`),
    );
    const modern = await tlsConnect(port, { servername: 'api.example.test' });
    assert.match(String(modern.getProtocol()), /^TLSv1\.[23]$/);
    modern.destroy();
  });
});

describe('ssl listener default certificate', () => {
  const pki = testPki();

  test('ssl_cert/ssl_cert_key is served when no SNI matches', async () => {
    const fallback = pki.server(['default.test']);
    const named = pki.server(['named.test']);
    const gw = await startGateway(certificatesYaml([{ pem: named, snis: ['named.test'] }]), {
      listen,
      tls: { defaultCertificate: { cert: [fallback.cert], key: [fallback.key] } },
    });
    try {
      const port = portOf(gw.gateway.addresses.proxy[0]);
      assert.equal((await servedCertificate(port, { servername: 'named.test' })).subject.CN, 'named.test');
      assert.equal((await servedCertificate(port, { servername: 'other.test' })).subject.CN, 'default.test');
      assert.equal((await servedCertificate(port)).subject.CN, 'default.test');
    } finally {
      await gw.close();
    }
  });

  test('with no certificate at all, a self-signed localhost certificate is generated (as Kong does)', async () => {
    const gw = await startGateway('_format_version: "3.0"\n', { listen });
    try {
      const port = portOf(gw.gateway.addresses.proxy[0]);
      const peer = await servedCertificate(port, { servername: 'anything.test' });
      assert.equal(peer.subject.CN, 'localhost');
      assert.equal(peer.issuer.CN, 'localhost', 'self-signed');
      // A verifying client refuses it, as it should.
      await assert.rejects(tlsConnect(port, { servername: 'localhost', rejectUnauthorized: true }), /self[- ]signed/i);
    } finally {
      await gw.close();
    }
  });

  test('cert_alt/key_alt on the default certificate: RSA and ECDSA clients each get theirs', async () => {
    const rsa = pki.server(['pair.test']);
    const ec = pki.server(['pair.test'], { keyType: 'ec' });
    const gw = await startGateway(certificatesYaml([{ pem: ec, alt: rsa, snis: ['*'] }]), { listen });
    try {
      const port = portOf(gw.gateway.addresses.proxy[0]);
      const tls12 = { maxVersion: 'TLSv1.2' } as const;
      const forRsa = await servedCertificate(port, { ...tls12, servername: 'pair.test', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
      assert.equal(forRsa.fingerprint256, new X509Certificate(rsa.cert).fingerprint256);
      const forEc = await servedCertificate(port, { ...tls12, servername: 'pair.test', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
      assert.equal(forEc.fingerprint256, new X509Certificate(ec.cert).fingerprint256);
    } finally {
      await gw.close();
    }
  });

  test('the admin and status listeners serve TLS too', async () => {
    const only = pki.server(['admin.test']);
    const gw = await startGateway(certificatesYaml([{ pem: only, snis: ['*'] }]), { listen: { proxy: [], admin: [SSL], internal: [], status: [SSL] } });
    try {
      const dispatcher = new Agent({ connect: { ca: pki.ca.cert, servername: 'admin.test' } });
      const admin = await request(`https://127.0.0.1:${portOf(gw.gateway.addresses.admin[0])}/status`, { dispatcher });
      assert.equal(admin.statusCode, 200);
      await admin.body.dump();
      const ready = await request(`https://127.0.0.1:${portOf(gw.gateway.addresses.status[0])}/status/ready`, { dispatcher });
      assert.equal(ready.statusCode, 200);
      await ready.body.dump();
      await dispatcher.close();
    } finally {
      await gw.close();
    }
  });
});

describe('config: the catch-all SNI', () => {
  test('an SNI named "*" is accepted; "*.*" is not', () => {
    const pem = testPki().server(['x.test']);
    assert.equal(snapshotFrom(certificatesYaml([{ pem, snis: ['*'] }])).snis[0]?.name, '*');
    assert.throws(() => snapshotFrom(certificatesYaml([{ pem, snis: ['*.*'] }])), /wildcard/);
  });
});
