import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { testPki } from '../helpers/tls.ts';
import { CA_ID, CLIENT_CERT_ID, OTHER_CA_ID, captureLogs, pkiEntities, startTlsUpstream, type TlsUpstream } from './upstream-tls-harness.ts';

const pki = testPki();

/** A wss upstream: echoes every message, prefixed with the client certificate's CN when there is one. */
async function startWssUpstream(names: string[], options: Parameters<typeof startTlsUpstream>[2] = {}): Promise<TlsUpstream> {
  const upstream = await startTlsUpstream(pki.server(names), (_req, res) => res.writeHead(426).end(), options);
  const wss = new WebSocketServer({ server: upstream.server });
  wss.on('connection', (ws, req) => {
    const cn = (req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
    ws.on('message', (data) => ws.send(`${typeof cn === 'string' ? `${cn}:` : ''}${String(data)}`));
  });
  return upstream;
}

/** Opens a WebSocket through the gateway and sends one message; resolves with the echo. */
async function echo(gw: TestGateway, path: string, text: string): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}${path}`);
  await once(ws, 'open');
  ws.send(text);
  const [reply] = (await once(ws, 'message')) as [Buffer];
  ws.close();
  return String(reply);
}

/** An upgrade the gateway refused: its status and JSON body. */
async function refusedUpgrade(gw: TestGateway, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}${path}`);
  ws.on('error', () => undefined);
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return { status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> };
}

describe('WebSocket pass-through to wss upstreams', () => {
  let plain: TlsUpstream;
  let mtls: TlsUpstream;
  let gw: TestGateway;
  const logs = captureLogs();

  before(async () => {
    plain = await startWssUpstream(['ws.test']);
    mtls = await startWssUpstream(['mtls-ws.test'], { requestCert: true, rejectUnauthorized: true, ca: pki.ca.cert });
    const svc = (name: string, host: string, port: number, fields: string): string => `  - name: ${name}
    protocol: wss
    host: ${host}
    port: ${port}
${fields}    routes: [{ name: ${name}, paths: [/${name}] }]
`;
    const yaml = `_format_version: "3.0"
${pkiEntities(pki.ca, pki.otherCa, pki.client('sluice-gateway'))}upstreams:
  - { name: ws.test, targets: [{ target: "127.0.0.1:${plain.port}" }] }
  - { name: mtls-ws.test, targets: [{ target: "127.0.0.1:${mtls.port}" }] }
services:
${svc('ok', 'ws.test', plain.port, `    ca_certificates: [${CA_ID}]\n`)}${svc('wrong-ca', 'ws.test', plain.port, `    ca_certificates: [${OTHER_CA_ID}]\n`)}${svc('off', 'ws.test', plain.port, '    tls_verify: false\n')}${svc('mtls', 'mtls-ws.test', mtls.port, `    ca_certificates: [${CA_ID}]\n    client_certificate: ${CLIENT_CERT_ID}\n`)}${svc('mtls-none', 'mtls-ws.test', mtls.port, `    ca_certificates: [${CA_ID}]\n`)}`;
    gw = await startGateway(yaml, { logger: logs.logger });
  });

  after(async () => {
    await gw?.close();
    await Promise.all([plain?.close(), mtls?.close()]);
  });

  it('verifies the upstream against ca_certificates and sends the upstream name as SNI', async () => {
    const before = plain.handshakes.length;
    assert.equal(await echo(gw, '/ok', 'hello'), 'hello');
    assert.equal(plain.handshakes[before]?.servername, 'ws.test');
  });

  it('answers 502 UPSTREAM_TLS_VERIFY_FAILED for a certificate from another CA, with the reason in the log', async () => {
    const { status, body } = await refusedUpgrade(gw, '/wrong-ca');
    assert.equal(status, 502);
    assert.equal(body.message, 'An invalid response was received from the upstream server');
    assert.equal(body.code, 'UPSTREAM_TLS_VERIFY_FAILED');
    const line = logs.lines.find((l) => l.request_id === body.request_id && l.code === 'UPSTREAM_TLS_VERIFY_FAILED');
    assert.match(String(line?.detail), /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /);
  });

  it('does not verify with tls_verify: false', async () => {
    assert.equal(await echo(gw, '/off', 'unverified'), 'unverified');
  });

  it('presents client_certificate to a wss upstream that requires one', async () => {
    assert.equal(await echo(gw, '/mtls', 'hi'), 'sluice-gateway:hi');
  });

  it('fails the upgrade with 502 when the upstream requires a client certificate and the service has none', async () => {
    const { status, body } = await refusedUpgrade(gw, '/mtls-none');
    assert.equal(status, 502);
    assert.equal(body.code, 'UPSTREAM_TLS_HANDSHAKE_FAILED');
  });
});
