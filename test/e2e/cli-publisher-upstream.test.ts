import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { HookServer } from '../helpers/hook-server.ts';
import { runCli, RunningCli } from '../helpers/cli.ts';
import { testPki } from '../helpers/tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-pub-upstream-'));

describe('sluice start with SLUICE_INTERNAL_PUBLISHER_UPSTREAM', () => {
  const pki = testPki();
  const hooks = new HookServer();
  let cli: RunningCli | undefined;
  after(async () => {
    if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await hooks.close();
  });

  test('an mTLS publish goes through the hook, which is told the client certificate', async () => {
    await hooks.start();
    const server = pki.server(['localhost']);
    writeFileSync(join(dir, 'server.pem'), server.cert);
    writeFileSync(join(dir, 'server.key'), server.key, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), pki.ca.cert);
    cli = new RunningCli([], {
      SLUICE_PROXY_LISTEN: 'off',
      SLUICE_ADMIN_LISTEN: 'off',
      SLUICE_INTERNAL_LISTEN: '127.0.0.1:0 ssl',
      SLUICE_INTERNAL_CLIENT_CA: join(dir, 'ca.pem'),
      SLUICE_SSL_CERT: join(dir, 'server.pem'),
      SLUICE_SSL_CERT_KEY: join(dir, 'server.key'),
      SLUICE_INTERNAL_PUBLISHER_UPSTREAM: `${hooks.url}/upstream`,
      SLUICE_INTERNAL_PUBLISHER_UPSTREAM_TIMEOUT: '3000',
    });
    const internal = (await cli.waitFor('listening')).listeners?.internal[0] ?? '';
    const client = pki.client('cli-publisher');
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert, servername: 'localhost', cert: client.cert, key: client.key } });
    try {
      const res = await request(`https://${internal}/pub/news`, { method: 'POST', body: 'hi', headers: { 'x-action': 'rewrite', accept: 'application/json' }, dispatcher });
      assert.equal(res.statusCode, 202);
      await res.body.dump();
      const call = await hooks.next((c) => c.url === '/upstream' && c.body === 'hi');
      assert.equal(call.headers['x-client-cert-subject'], 'CN=cli-publisher,O=Sluice Tests');
      assert.equal(call.headers['x-client-cert-fingerprint'], new X509Certificate(client.cert).fingerprint256);
      const info = await request(`https://${internal}/pub/news`, { headers: { accept: 'application/json' }, dispatcher });
      assert.equal(((await info.body.json()) as { messages: number }).messages, 1);
    } finally {
      await dispatcher.close();
    }
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  test('a URL that is not http(s): a settings error naming the variable, exit 1', async () => {
    const result = await runCli(['start'], { SLUICE_INTERNAL_PUBLISHER_UPSTREAM: 'ftp://app/hook', SLUICE_PROXY_LISTEN: 'off', SLUICE_ADMIN_LISTEN: 'off' });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'sluice: SLUICE_INTERNAL_PUBLISHER_UPSTREAM: invalid URL "ftp://app/hook": must be an http or https URL\n');
  });
});
