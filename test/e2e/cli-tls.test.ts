import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { runCli, RunningCli } from '../helpers/cli.ts';
import { testPki } from '../helpers/tls.ts';
import { certificatesYaml } from '../helpers/tls-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-tls-'));
const ROUTE = { routes: [{ name: 'hello', paths: ['/hello'], plugins: [{ name: 'request-termination', config: { status_code: 200, message: 'hello' } }] }] };

/** A GET over a fresh TLS connection verified against `ca` for `servername`: status, worker and certificate CN. */
function freshHttpsGet(url: string, ca: string, servername: string): Promise<{ status: number; worker: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, servername, agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: String(res.headers['x-sluice-worker']), cn }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sluice start with SLUICE_PROXY_LISTEN="... ssl"', () => {
  const pki = testPki();
  let cli: RunningCli | undefined;
  after(() => {
    if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
  });

  test('with two workers, every worker serves TLS with the config\'s certificates', async () => {
    const file = join(dir, 'kong.yml');
    writeFileSync(file, certificatesYaml([{ pem: pki.server(['api.example.test']), snis: ['api.example.test'] }], ROUTE));
    cli = new RunningCli(['-c', file], {
      SLUICE_PROXY_LISTEN: '127.0.0.1:0 ssl',
      SLUICE_ADMIN_LISTEN: 'off',
      SLUICE_INTERNAL_LISTEN: 'off',
      SLUICE_WORKERS: '2',
      SLUICE_DRAIN_TIMEOUT: '2',
    });
    const listening = await cli.waitFor('listening');
    const proxy = listening.listeners?.proxy[0] ?? '';
    const workers = new Set<string>();
    for (let i = 0; i < 40 && workers.size < 2; i++) {
      const res = await freshHttpsGet(`https://${proxy}/hello`, pki.ca.cert, 'api.example.test');
      assert.equal(res.status, 200);
      assert.equal(res.cn, 'api.example.test');
      workers.add(res.worker);
    }
    assert.equal(workers.size, 2, 'both workers answered over TLS');
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  test('ssl_cert/ssl_cert_key files are the default certificate', async () => {
    const fallback = pki.server(['fallback.test']);
    writeFileSync(join(dir, 'cert.pem'), fallback.cert);
    writeFileSync(join(dir, 'key.pem'), fallback.key, { mode: 0o600 });
    cli = new RunningCli([], {
      SLUICE_PROXY_LISTEN: '127.0.0.1:0 ssl',
      SLUICE_ADMIN_LISTEN: 'off',
      SLUICE_INTERNAL_LISTEN: 'off',
      SLUICE_SSL_CERT: join(dir, 'cert.pem'),
      SLUICE_SSL_CERT_KEY: join(dir, 'key.pem'),
    });
    const proxy = (await cli.waitFor('listening')).listeners?.proxy[0] ?? '';
    const res = await freshHttpsGet(`https://${proxy}/nothing`, pki.ca.cert, 'fallback.test');
    assert.equal(res.cn, 'fallback.test');
    assert.equal(res.status, 404);
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  test('no certificate and no openssl to make one: a one-line error naming the fix, exit 1', async () => {
    const result = await runCli(['start'], { PATH: '/nonexistent', SLUICE_PROXY_LISTEN: '127.0.0.1:0 ssl', SLUICE_ADMIN_LISTEN: 'off', SLUICE_INTERNAL_LISTEN: 'off' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^sluice: an ssl listener has no certificate and the self-signed default could not be made \(openssl is not installed\): set ssl_cert and ssl_cert_key, or add a certificate with the SNI "\*"\n$/);
  });

  test('internal_client_ca on a plain internal listener: a settings error, exit 1', async () => {
    writeFileSync(join(dir, 'ca.pem'), pki.ca.cert);
    const result = await runCli(['start'], { SLUICE_INTERNAL_CLIENT_CA: join(dir, 'ca.pem'), SLUICE_PROXY_LISTEN: 'off', SLUICE_ADMIN_LISTEN: 'off' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /SLUICE_INTERNAL_CLIENT_CA: internal_client_ca needs every internal listener to use ssl \(internal_listen 127\.0\.0\.1:8010 has no ssl flag\)/);
  });
});
