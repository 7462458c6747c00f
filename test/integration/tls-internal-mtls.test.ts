import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { Writable } from 'node:stream';
import { Agent, request } from 'undici';
import { createLogger } from '../../src/observability/logger.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { testPki, type Pem } from '../helpers/tls.ts';
import { certificatesYaml, tlsConnect } from '../helpers/tls-client.ts';

const LOOPBACK = { host: '127.0.0.1', port: 0 };
const SSL = { ...LOOPBACK, ssl: true };

/** POSTs a message to the internal listener over TLS, presenting `client` (or no certificate). */
async function publish(port: number, client: Pem | undefined, ca: string): Promise<{ status: number; body: string }> {
  const dispatcher = new Agent({ connect: { ca, servername: 'internal.test', ...(client ? { cert: client.cert, key: client.key } : {}) } });
  try {
    const res = await request(`https://127.0.0.1:${port}/pub/news`, { method: 'POST', body: 'hello', dispatcher });
    return { status: res.statusCode, body: await res.body.text() };
  } finally {
    await dispatcher.close();
  }
}

describe('internal listener mTLS (internal_client_ca)', () => {
  const pki = testPki();
  const lines: Record<string, unknown>[] = [];
  let gw: TestGateway;
  let port: number;

  before(async () => {
    const server = pki.server(['internal.test']);
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of String(chunk).split('\n')) if (text !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
        done();
      },
    });
    gw = await startGateway(certificatesYaml([{ pem: server, snis: ['internal.test'] }]), {
      listen: { proxy: [LOOPBACK], admin: [], internal: [SSL], status: [] },
      tls: { internalClientCa: pki.ca.cert, defaultCertificate: { cert: [server.cert], key: [server.key] } },
      logger: createLogger('info', stream, 'json'),
    });
    port = Number(gw.gateway.addresses.internal[0]?.split(':').pop());
  });
  after(() => gw.close());

  test('a publisher with a certificate from the trusted CA publishes (202, no subscribers)', async () => {
    const { status } = await publish(port, pki.client('publisher-1'), pki.ca.cert);
    assert.equal(status, 202);
  });

  test('no client certificate: refused at the handshake', async () => {
    await assert.rejects(publish(port, undefined, pki.ca.cert), (error: Error & { code?: string; cause?: { code?: string } }) => {
      const code = `${error.code ?? ''} ${error.cause?.code ?? ''} ${error.message}`;
      return /CERTIFICATE_REQUIRED|HANDSHAKE|ECONNRESET|SOCKET|other side closed/i.test(code);
    });
  });

  test('a certificate from another CA: refused at the handshake', async () => {
    const socket = tlsConnect(port, { servername: 'internal.test', ...certOf(pki.client('intruder', { ca: 'other' })) });
    await assert.rejects(answered(socket));
  });

  test('an expired certificate from the trusted CA: refused at the handshake', async () => {
    const socket = tlsConnect(port, { servername: 'internal.test', ...certOf(pki.client('old-publisher', { expired: true })) });
    await assert.rejects(answered(socket));
  });

  test('without SNI the same checks apply', async () => {
    await assert.rejects(answered(tlsConnect(port, {})));
    await answered(tlsConnect(port, certOf(pki.client('publisher-2'))));
  });

  test('the access log line of a publish names the client certificate subject and fingerprint', async () => {
    const client = pki.client('publisher-logged');
    assert.equal((await publish(port, client, pki.ca.cert)).status, 202);
    const line = lines.find((l) => l.listener === 'internal' && l.client_cert_subject === 'CN=publisher-logged,O=Sluice Tests');
    assert.ok(line, `an internal access line with the subject, got ${JSON.stringify(lines.filter((l) => l.listener === 'internal'))}`);
    assert.equal(line.client_cert_fingerprint, new X509Certificate(client.cert).fingerprint256);
    assert.equal(line.method, 'POST');
    assert.equal(line.path, '/pub/news');
    assert.equal(line.status, 202);
  });
});

function certOf(pem: Pem): { cert: string; key: string } {
  return { cert: pem.cert, key: pem.key };
}

/**
 * With TLS 1.3 the client finishes its side of the handshake before the server checks the
 * certificate: the refusal arrives as an alert right after. Resolves once the gateway answers a
 * request on the connection; rejects when it closes it instead.
 */
async function answered(connecting: Promise<TLSSocket>): Promise<void> {
  const socket = await connecting;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed by the server')));
    socket.write('GET /pub/news HTTP/1.1\r\nHost: internal.test\r\nConnection: close\r\n\r\n');
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
  });
}
