import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { request } from 'undici';
import { snapshotFrom, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { testPki } from '../helpers/tls.ts';
import {
  CA_ID,
  CLIENT_CERT_ID,
  OTHER_CA_ID,
  captureLogs,
  pkiEntities,
  startTlsUpstream,
  type LogLine,
  type TlsUpstream,
} from './upstream-tls-harness.ts';

const pki = testPki();

interface Answer {
  status: number;
  body: string;
  json: () => Record<string, unknown>;
}

async function get(gw: TestGateway, path: string): Promise<Answer> {
  const res = await request(`${gw.proxyUrl}${path}`);
  const body = await res.body.text();
  return { status: res.statusCode, body, json: () => JSON.parse(body) as Record<string, unknown> };
}

/** The warn line the gateway logged for the request that got `requestId`. */
function failureLine(lines: readonly LogLine[], requestId: unknown): LogLine {
  const line = lines.find((l) => l.request_id === requestId && typeof l.code === 'string' && l.event === undefined);
  assert.ok(line, `a log line for request ${String(requestId)}`);
  return line;
}

/** One https service per line: `name`, fields, and the route path `/<name>`. */
function service(name: string, host: string, port: number, fields = ''): string {
  return `  - name: ${name}
    protocol: https
    host: ${host}
    port: ${port}
${fields}    routes: [{ name: ${name}, paths: [/${name}] }]
`;
}

describe('https upstreams: SNI, verification, client certificates', () => {
  const backendPem = pki.server(['backend.test', '127.0.0.1']);
  let backend: TlsUpstream;
  let expired: TlsUpstream;
  let mtls: TlsUpstream;
  let gw: TestGateway;
  const logs = captureLogs();
  let releaseStream: () => void = () => undefined;

  before(async () => {
    backend = await startTlsUpstream(backendPem, (req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first;');
        releaseStream = () => res.end('second');
        return;
      }
      if (req.method === 'POST') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        req.pipe(res);
        return;
      }
      res.end(JSON.stringify({ url: req.url, host: req.headers.host }));
    });
    expired = await startTlsUpstream(pki.server(['expired.test'], { expired: true }), (_req, res) => res.end('stale'));
    mtls = await startTlsUpstream(pki.server(['mtls.test']), (req, res) => {
      const socket = req.socket as TLSSocket;
      res.end(`hello ${String(socket.getPeerCertificate().subject?.CN)}`);
    }, { requestCert: true, rejectUnauthorized: true, ca: pki.ca.cert });
    const p = backend.port;
    const ca = `    ca_certificates: [${CA_ID}]\n`;
    const yaml = `_format_version: "3.0"
${pkiEntities(pki.ca, pki.otherCa, pki.client('sluice-gateway'))}upstreams:
  - { name: backend.test, targets: [{ target: "127.0.0.1:${p}" }] }
  - { name: wrong.test, targets: [{ target: "127.0.0.1:${p}" }] }
  - { name: expired.test, targets: [{ target: "127.0.0.1:${expired.port}" }] }
  - { name: mtls.test, targets: [{ target: "127.0.0.1:${mtls.port}" }] }
services:
${service('ok', 'backend.test', p, `    tls_verify: true\n${ca}`)}${service('ip', '127.0.0.1', p, ca)}${service('wrong-ca', 'backend.test', p, `    ca_certificates: [${OTHER_CA_ID}]\n`)}${service('wrong-host', 'wrong.test', p, ca)}${service('system', 'backend.test', p)}${service('off', 'backend.test', p, `    tls_verify: false\n    ca_certificates: [${OTHER_CA_ID}]\n`)}${service('expired', 'expired.test', expired.port, ca)}${service('mtls', 'mtls.test', mtls.port, `${ca}    client_certificate: { id: ${CLIENT_CERT_ID} }\n`)}${service('mtls-none', 'mtls.test', mtls.port, ca)}${service('depth', 'backend.test', p, `${ca}    tls_verify_depth: 0\n`)}`;
    gw = await startGateway(yaml, { logger: logs.logger });
  });

  after(async () => {
    await gw?.close();
    await Promise.all([backend?.close(), expired?.close(), mtls?.close()]);
  });

  it('verifies against ca_certificates, sends the upstream name as SNI and offers ALPN http/1.1', async () => {
    const before = backend.handshakes.length;
    const res = await get(gw, '/ok/hello');
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json(), { url: '/hello', host: `backend.test:${backend.port}` });
    const handshake = backend.handshakes[before];
    assert.equal(handshake?.servername, 'backend.test');
    assert.equal(handshake?.alpn, 'http/1.1');
  });

  it('sends no SNI to an IP address and verifies the IP against the certificate', async () => {
    const before = backend.handshakes.length;
    const res = await get(gw, '/ip');
    assert.equal(res.status, 200, res.body);
    assert.equal(backend.handshakes[before]?.servername, false);
  });

  it('streams a request body up and a response body down over TLS', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i));
    const res = await request(`${gw.proxyUrl}/ok/upload`, { method: 'POST', body: Readable.from(chunks) });
    assert.equal(res.statusCode, 200);
    const echoed = Buffer.from(await res.body.arrayBuffer());
    assert.ok(echoed.equals(Buffer.concat(chunks)), 'the upstream echoed every byte in order');

    const streamed = await request(`${gw.proxyUrl}/ok/stream`);
    assert.equal(streamed.statusCode, 200);
    const reader = streamed.body[Symbol.asyncIterator]();
    const first = await reader.next();
    assert.equal(String(first.value), 'first;', 'the first chunk arrives while the upstream is still writing');
    releaseStream();
    let rest = '';
    for (let next = await reader.next(); !next.done; next = await reader.next()) rest += String(next.value);
    assert.equal(rest, 'second');
  });

  const refusals: [string, string, RegExp][] = [
    ['wrong-ca', 'a certificate from a CA not in ca_certificates', /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /],
    ['wrong-host', 'a certificate for another name', /^ERR_TLS_CERT_ALTNAME_INVALID: .*wrong\.test/],
    ['expired', 'an expired certificate', /^CERT_HAS_EXPIRED: /],
    ['system', 'a private CA when only the system store is trusted (verification on by default)', /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /],
  ];
  for (const [path, what, reason] of refusals) {
    it(`refuses ${what}: 502, Kong's message, the reason in the log`, async () => {
      const res = await get(gw, `/${path}`);
      assert.equal(res.status, 502);
      const body = res.json();
      assert.equal(body.message, 'An invalid response was received from the upstream server');
      assert.equal(body.code, 'UPSTREAM_TLS_VERIFY_FAILED');
      const line = failureLine(logs.lines, body.request_id);
      assert.equal(line.code, 'UPSTREAM_TLS_VERIFY_FAILED');
      assert.match(String(line.detail), reason);
    });
  }

  it('does not verify when the service says tls_verify: false', async () => {
    const res = await get(gw, '/off');
    assert.equal(res.status, 200, res.body);
  });

  it('presents client_certificate to an upstream that requires one', async () => {
    const res = await get(gw, '/mtls');
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, 'hello sluice-gateway');
  });

  it('fails with a handshake error when the upstream requires a client certificate and the service has none', async () => {
    const res = await get(gw, '/mtls-none');
    assert.equal(res.status, 502);
    const body = res.json();
    assert.equal(body.code, 'UPSTREAM_TLS_HANDSHAKE_FAILED');
    assert.match(String(failureLine(logs.lines, body.request_id).detail), /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|certificate/i);
  });

  it('renders the TLS fields on the Admin API and lists /ca_certificates', async () => {
    const admin = async (path: string): Promise<Record<string, unknown>> => (await (await request(`${gw.adminUrl}${path}`)).body.json()) as Record<string, unknown>;
    const mtlsService = await admin('/services/mtls');
    assert.deepEqual(mtlsService.client_certificate, { id: CLIENT_CERT_ID });
    assert.deepEqual(mtlsService.ca_certificates, [CA_ID]);
    assert.equal(mtlsService.tls_verify, null);
    const depth = await admin('/services/depth');
    assert.equal(depth.tls_verify_depth, 0);
    assert.equal((await admin('/services/ok')).tls_verify, true);
    assert.equal((await admin('/services/mtls/client_certificate')).id, CLIENT_CERT_ID);
    const list = (await admin('/ca_certificates')).data as Record<string, unknown>[];
    assert.deepEqual(list.map((c) => c.id).sort(), [CA_ID, OTHER_CA_ID].sort());
    const one = await admin(`/ca_certificates/${CA_ID}`);
    assert.equal(one.cert, pki.ca.cert);
    assert.match(String(one.cert_digest), /^[0-9a-f]{64}$/);
  });

  it('honours tls_verify_depth 0 for a certificate signed directly by the trusted CA', async () => {
    const res = await get(gw, '/depth');
    assert.equal(res.status, 200, res.body);
  });
});

describe('upstream_tls_verify = off (Kong\'s default)', () => {
  let backend: TlsUpstream;
  let gw: TestGateway;

  before(async () => {
    backend = await startTlsUpstream(pki.server(['backend.test']), (_req, res) => res.end('unverified'));
    const yaml = `_format_version: "3.0"
${pkiEntities(pki.ca, pki.otherCa, pki.client('sluice-gateway'))}upstreams:
  - { name: backend.test, targets: [{ target: "127.0.0.1:${backend.port}" }] }
services:
${service('unset', 'backend.test', backend.port)}${service('forced', 'backend.test', backend.port, '    tls_verify: true\n')}`;
    gw = await startGateway(yaml, { upstreamTlsVerify: false });
  });

  after(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('accepts any certificate for a service that leaves tls_verify unset', async () => {
    const res = await get(gw, '/unset');
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, 'unverified');
  });

  it('still verifies a service that sets tls_verify: true', async () => {
    const res = await get(gw, '/forced');
    assert.equal(res.status, 502);
    assert.equal(res.json().code, 'UPSTREAM_TLS_VERIFY_FAILED');
  });
});

describe('a reload that changes tls_verify', () => {
  let backend: TlsUpstream;
  let gw: TestGateway;
  const yaml = (verify: boolean): string => `_format_version: "3.0"
${pkiEntities(pki.ca, pki.otherCa, pki.client('sluice-gateway'))}upstreams:
  - { name: backend.test, targets: [{ target: "127.0.0.1:${backend.port}" }] }
services:
${service('r', 'backend.test', backend.port, `    tls_verify: ${verify}\n    ca_certificates: [${OTHER_CA_ID}]\n`)}`;

  before(async () => {
    backend = await startTlsUpstream(pki.server(['backend.test']), (_req, res) => res.end('ok'));
    gw = await startGateway(yaml(false));
  });

  after(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('takes effect for the next request: a kept-alive unverified connection is not reused once verification is on', async () => {
    assert.equal((await get(gw, '/r')).status, 200);
    const handshakes = backend.handshakes.length;
    assert.equal((await get(gw, '/r')).status, 200);
    assert.equal(backend.handshakes.length, handshakes, 'the second request reused the pooled connection');

    await gw.gateway.reload(snapshotFrom(yaml(true)));
    const refused = await get(gw, '/r');
    assert.equal(refused.status, 502);
    assert.equal(refused.json().code, 'UPSTREAM_TLS_VERIFY_FAILED');

    await gw.gateway.reload(snapshotFrom(yaml(false)));
    assert.equal((await get(gw, '/r')).status, 200);
  });
});
