import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli, RunningCli } from '../helpers/cli.ts';
import { sample, scrape } from '../helpers/metrics.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-observability-'));
const LISTEN = ['--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--internal-listen', 'off'];

const routeTo = (upstream: TestServer) =>
  `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${upstream.url}\n    routes:\n      - name: r\n        paths: [/]\n`;

describe('sluice start: metrics, reloads and the access log', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  test('SIGHUP reloads count ok and failed in /metrics; access lines are JSON on a pipe', async () => {
    const upstream = await startServer((_req, res) => res.end('hi'));
    cleanups.push(() => upstream.close());
    const file = join(dir, 'kong.yml');
    writeFileSync(file, routeTo(upstream));
    const cli = new RunningCli(['-c', file, ...LISTEN]);
    cleanups.push(async () => {
      cli.child.kill('SIGTERM');
      await cli.exited;
    });
    const listening = await cli.waitFor('listening');
    const proxy = `http://${listening.listeners?.proxy[0]}`;
    const admin = `http://${listening.listeners?.admin[0]}`;

    const access = cli.next('access');
    assert.equal(await (await request(`${proxy}/x`)).body.text(), 'hi');
    const line = await access;
    assert.deepEqual({ status: line.status, route: line.route, service: line.service, path: line.path }, { status: 200, route: 'r', service: 's', path: '/x' });

    writeFileSync(file, '_format_version: "3.0"\nservices: [ {{{ broken');
    const rejected = cli.next('reload_failed');
    cli.child.kill('SIGHUP');
    assert.equal((await rejected).code, 'CONFIG_INVALID');
    let s = await scrape(admin);
    assert.equal(sample(s, 'sluice_config_reloads_total', { result: 'failed' }), 1);
    assert.equal(sample(s, 'sluice_config_reloads_total', { result: 'ok' }), 0);

    writeFileSync(file, routeTo(upstream));
    const reloaded = cli.next('reloaded');
    cli.child.kill('SIGHUP');
    await reloaded;
    s = await scrape(admin);
    assert.equal(sample(s, 'sluice_config_reloads_total', { result: 'ok' }), 1);
    assert.equal(sample(s, 'sluice_http_requests_total', { service: 's', route: 'r', code: '200' }), 1);
  });

  test('--metrics off and --access-log off are honoured; bad values are clear errors', async () => {
    const file = join(dir, 'empty.yml');
    writeFileSync(file, '_format_version: "3.0"\n');
    const cli = new RunningCli(['-c', file, ...LISTEN, '--metrics', 'off', '--access-log', 'off']);
    cleanups.push(async () => {
      cli.child.kill('SIGTERM');
      await cli.exited;
    });
    const listening = await cli.waitFor('listening');
    const metrics = await request(`http://${listening.listeners?.admin[0]}/metrics`);
    assert.equal(metrics.statusCode, 404);
    await metrics.body.dump();
    await (await request(`http://${listening.listeners?.proxy[0]}/nothing`)).body.dump();
    cli.child.kill('SIGTERM');
    await cli.exited;
    assert.equal(cli.lines.filter((l) => l.event === 'access').length, 0);

    const bad = await runCli(['start', '-c', file, ...LISTEN, '--log-format', 'xml']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--log-format: invalid log format "xml" \(use json, pretty or auto\)/);
    const badMetrics = await runCli(['start', '-c', file, ...LISTEN], { SLUICE_METRICS: 'maybe' });
    assert.equal(badMetrics.code, 1);
    assert.match(badMetrics.stderr, /SLUICE_METRICS: invalid boolean "maybe"/);
  });
});
