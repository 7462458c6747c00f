import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import type { Upstream } from '../../src/config/types.ts';
import { createHealthChecker, type HealthChecker } from '../../src/proxy/health.ts';
import { upstreamTls } from '../../src/proxy/upstream-tls.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { testPki } from '../helpers/tls.ts';
import { makeService, makeUpstream } from './proxy-harness.ts';
import { CA_ID, chainedServerCert, pkiEntities, startTlsUpstream, type TlsUpstream } from './upstream-tls-harness.ts';

const pki = testPki();

/** An upstream whose target goes unhealthy after one tcp failure and is probed back with an https GET. */
function httpsProbed(address: string, active: { https_sni?: string; https_verify_certificate?: boolean }): Upstream {
  const base = makeUpstream([address], { id: `hc-${address}` });
  const hc = base.healthchecks;
  return {
    ...base,
    healthchecks: {
      ...hc,
      active: { ...hc.active, type: 'https', http_path: '/health', ...active, healthy: { ...hc.active.healthy, successes: 1 } },
      passive: { ...hc.passive, unhealthy: { ...hc.passive.unhealthy, tcp_failures: 1 } },
    },
  };
}

function backIn(health: HealthChecker, address: string): Promise<string> {
  return new Promise((resolve) => {
    const off = health.onChange((a, healthy, reason) => {
      if (a === address && healthy) {
        off();
        resolve(reason);
      }
    });
  });
}

describe('active https health probes', () => {
  let target: TlsUpstream;
  let address: string;
  const checkers: HealthChecker[] = [];

  before(async () => {
    target = await startTlsUpstream(pki.server(['hc.test']), (_req, res) => res.end('healthy'));
    address = `127.0.0.1:${target.port}`;
  });

  after(async () => {
    for (const checker of checkers) checker.close();
    await target?.close();
  });

  const checker = (upstream: Upstream): HealthChecker => {
    const health = createHealthChecker(upstream, { probeIntervalMs: 20 });
    checkers.push(health);
    return health;
  };

  it('probe with https_sni and the service\'s ca_certificates, and bring the target back', async () => {
    const health = checker(httpsProbed(address, { https_sni: 'hc.test' }));
    const service = makeService({ protocol: 'https', ca_certificates: [CA_ID] });
    health.useTls(upstreamTls(service, { certificates: new Map(), ca_certificates: new Map([[CA_ID, { id: CA_ID, cert: pki.ca.cert, cert_digest: '', tags: [] }]]) }));
    const before = target.handshakes.length;
    health.reportTcpFailure(address);
    assert.equal(health.isHealthy(address), false);
    assert.equal(await backIn(health, address), 'active probe succeeded');
    assert.equal(target.handshakes[before]?.servername, 'hc.test');
  });

  it('keep a target out while its certificate does not verify (https_verify_certificate defaults to true)', async () => {
    const health = checker(httpsProbed(address, { https_sni: 'hc.test' }));
    const refusedBefore = target.refused.length;
    health.reportTcpFailure(address);
    // Two refused probes: the second came after the first failed and the target stayed out.
    while (target.refused.length < refusedBefore + 2) await once(target.server, 'tlsClientError');
    assert.equal(health.isHealthy(address), false);
    health.close();
  });

  it('accept any certificate with https_verify_certificate: false', async () => {
    const health = checker(httpsProbed(address, { https_verify_certificate: false }));
    health.reportTcpFailure(address);
    assert.equal(await backIn(health, address), 'active probe succeeded');
  });
});

describe('tls_verify_depth with an intermediate CA', () => {
  let backend: TlsUpstream;
  let gw: TestGateway;

  before(async () => {
    backend = await startTlsUpstream(chainedServerCert(pki.ca, 'chain.test'), (_req, res) => res.end('chained'));
    const svc = (name: string, depth: number): string =>
      `  - { name: ${name}, protocol: https, host: chain.test, port: ${backend.port}, ca_certificates: [${CA_ID}], tls_verify_depth: ${depth}, routes: [{ name: ${name}, paths: [/${name}] }] }\n`;
    gw = await startGateway(`_format_version: "3.0"
${pkiEntities(pki.ca, pki.otherCa, pki.client('sluice-gateway'))}upstreams:
  - { name: chain.test, targets: [{ target: "127.0.0.1:${backend.port}" }] }
services:
${svc('depth0', 0)}${svc('depth1', 1)}`);
  });

  after(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('refuses a chain with one intermediate at depth 0 and accepts it at depth 1', async () => {
    const shallow = await request(`${gw.proxyUrl}/depth0`);
    const body = (await shallow.body.json()) as Record<string, unknown>;
    assert.equal(shallow.statusCode, 502);
    assert.equal(body.code, 'UPSTREAM_TLS_VERIFY_FAILED');
    const deep = await request(`${gw.proxyUrl}/depth1`);
    assert.equal(deep.statusCode, 200);
    assert.equal(await deep.body.text(), 'chained');
  });
});
