import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { loadPlugins } from '../../src/plugins/load-plugins.ts';
import { runCli, RunningCli } from '../helpers/cli.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startEchoServer, type EchoedRequest } from '../helpers/servers.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/plugins', import.meta.url));

const config = (url: string, pluginConfig = '{}') => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - name: r
        paths: [/]
        plugins:
          - name: header-stamp
            config: ${pluginConfig}
`;

describe('custom plugins (SLUICE_PLUGINS, SLUICE_PLUGINS_PATH)', () => {
  test('the example plugin loads from plugins_path and runs in the chain', async () => {
    const echo = await startEchoServer();
    const registry = await loadPlugins(['bundled', 'header-stamp'], EXAMPLES);
    assert.ok(registry.has('key-auth') || registry.names().length > 1, 'bundled plugins are there too');
    const gw = await startGateway(config(echo.url, '{ value: hello, required_header: X-Tenant }'), { registry });
    try {
      const res = await request(gw.proxyUrl, { headers: { 'x-tenant': 't1' } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-stamp'], 'hello');
      assert.equal(((await res.body.json()) as EchoedRequest).headers['x-stamp'], 'hello');
      const refused = await request(gw.proxyUrl);
      assert.equal(refused.statusCode, 400);
      assert.equal(((await refused.body.json()) as { message: string }).message, 'missing header x-tenant');
    } finally {
      await gw.close();
      await echo.close();
    }
  });

  test('sluice start loads it from the environment; a missing or broken plugin stops the start', async () => {
    const echo = await startEchoServer();
    const dir = mkdtempSync(join(tmpdir(), 'sluice-custom-'));
    const file = join(dir, 'kong.yml');
    writeFileSync(file, config(echo.url));
    const env = { SLUICE_PLUGINS: 'bundled,header-stamp', SLUICE_PLUGINS_PATH: EXAMPLES };
    const cli = new RunningCli(['-c', file, '--proxy-listen', '127.0.0.1:0', '--admin-listen', 'off', '--internal-listen', 'off'], env);
    try {
      const listening = await cli.waitFor('listening');
      const res = await request(`http://${listening.listeners?.proxy[0]}/`);
      assert.equal(res.headers['x-stamp'], 'stamped');
      await res.body.dump();
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
      await echo.close();
    }

    const withoutIt = await runCli(['config', 'check', file]);
    assert.equal(withoutIt.code, 1);
    assert.match(withoutIt.stderr, /plugin 'header-stamp' not enabled/);
    assert.equal((await runCli(['config', 'check', file], env)).code, 0);

    const missing = await runCli(['start', '-c', file, '--proxy-listen', '127.0.0.1:0'], { SLUICE_PLUGINS: 'bundled,nope', SLUICE_PLUGINS_PATH: EXAMPLES });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /plugin 'nope': no index, or schema and handler/);

    mkdirSync(join(dir, 'broken'));
    writeFileSync(join(dir, 'broken', 'index.mjs'), "export const plugin = { name: 'broken', PRIORITY: 'high' };\n");
    const broken = await runCli(['start', '-c', file, '--proxy-listen', '127.0.0.1:0'], { SLUICE_PLUGINS: 'bundled,broken', SLUICE_PLUGINS_PATH: dir });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /plugin 'broken': PRIORITY must be a number/);
  });
});
