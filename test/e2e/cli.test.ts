import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli, RunningCli } from '../helpers/cli.ts';
import { startServer, type TestServer } from '../helpers/servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
const LISTEN = ['--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--internal-listen', 'off'];

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const routeTo = (upstream: TestServer, path: string) =>
  `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${upstream.url}\n    routes:\n      - name: r\n        paths: [${path}]\n`;

describe('sluice CLI', () => {
  const upstreams: TestServer[] = [];
  after(async () => {
    for (const upstream of upstreams) await upstream.close();
  });

  test('version prints the package version; --help works on every command', async () => {
    const version = await runCli(['version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
    for (const args of [['--help'], ['start', '--help'], ['config', '--help'], ['config', 'check', '--help'], ['version', '--help']]) {
      const help = await runCli(args);
      assert.equal(help.code, 0, args.join(' '));
      assert.match(help.stdout, /Usage: sluice/, args.join(' '));
    }
    const start = await runCli(['start', '--help']);
    for (const flag of ['--proxy-listen', '--admin-listen', '--internal-listen', '--config', '--trusted-ips', '--log-level']) {
      assert.ok(start.stdout.includes(flag), `start --help lists ${flag}`);
    }
  });

  test('config check: exit 0 with a one-line summary, exit 1 with file:line:column errors', async () => {
    const good = writeConfig('good.yml', '_format_version: "3.0"\nservices:\n  - name: a\n    url: http://127.0.0.1:1\n    routes:\n      - paths: [/a]\n');
    const ok = await runCli(['config', 'check', good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim().split('\n').length, 1);
    assert.match(ok.stdout, /1 services?, 1 routes?/);

    const bad = writeConfig(
      'bad.yml',
      '_format_version: "3.0"\nservices:\n  - name: a\n    url: http://127.0.0.1:1\n    routes:\n      - name: r\n        paths: ["~/(unclosed"]\n      - name: r\n        paths: [/b]\n        colour: blue\n',
    );
    const failed = await runCli(['config', 'check', bad]);
    assert.equal(failed.code, 1);
    const output = failed.stdout + failed.stderr;
    assert.match(output, /bad\.yml:7:\d+:.*services\[0\]\.routes\[0\]/);
    assert.match(output, /bad\.yml:10:\d+:.*colour/);
    assert.match(output, /bad\.yml:8:\d+:.*uniqueness violation.*name "r"/);

    const missing = await runCli(['config', 'check', join(dir, 'nope.yml')]);
    assert.equal(missing.code, 1);
  });

  test('start logs the bound addresses in one parseable line, reloads on SIGHUP and drains on SIGTERM', async () => {
    const first = await startServer((req, res) => {
      if (!req.url?.includes('stream')) return void res.end('first');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: before\n\n');
      req.once('data', () => {}); // keep the stream open until the test ends it
      streamWriter = (text) => res.write(text);
    });
    let streamWriter: (text: string) => void = () => {};
    const second = await startServer((req, res) => (req.url?.includes('slow') ? setTimeout(() => res.end('slow done'), 300) : res.end('second')));
    upstreams.push(first, second);
    const file = writeConfig('live.yml', routeTo(first, '/'));
    const cli = new RunningCli(['-c', file, ...LISTEN, '--log-level', 'info']);
    const listening = await cli.waitFor('listening');
    const proxy = listening.listeners?.proxy[0];
    assert.match(proxy ?? '', /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(listening.listeners?.internal, []);
    assert.equal(await (await request(`http://${proxy}/`)).body.text(), 'first');

    writeFileSync(file, '_format_version: "3.0"\nservices: [ {{{ broken');
    const rejected = cli.next('reload_failed');
    cli.child.kill('SIGHUP');
    await rejected;
    assert.equal(await (await request(`http://${proxy}/`)).body.text(), 'first', 'a bad file keeps the old config');

    const stream = await request(`http://${proxy}/stream`);
    const chunks = stream.body[Symbol.asyncIterator]();
    assert.match(String((await chunks.next()).value), /data: before/);

    writeFileSync(file, routeTo(second, '/'));
    const reloaded = cli.next('reloaded');
    cli.child.kill('SIGHUP');
    await reloaded;
    streamWriter('data: after reload\n\n');
    assert.match(String((await chunks.next()).value), /data: after reload/, 'an open stream survives the reload');
    await chunks.return?.();
    assert.equal(await (await request(`http://${proxy}/`)).body.text(), 'second');

    const slow = request(`http://${proxy}/slow`);
    await new Promise<void>((resolve) => second.server.once('request', () => resolve()));
    cli.child.kill('SIGTERM');
    const res = await slow;
    assert.equal(await res.body.text(), 'slow done', 'in-flight request finished during drain');
    assert.equal(await cli.exited, 0);
  });

  test('a listen address that is taken is a clear start-up error with exit code 1', async () => {
    const holder = await startServer(() => {});
    upstreams.push(holder);
    const file = writeConfig('taken.yml', '_format_version: "3.0"\n');
    const result = await runCli(['start', '-c', file, '--proxy-listen', `127.0.0.1:${holder.port}`, '--admin-listen', 'off', '--internal-listen', 'off']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${holder.port} for the proxy listener: address already in use`));
  });

  test('an invalid config or setting refuses to start with exit code 1', async () => {
    const file = writeConfig('invalid.yml', '_format_version: "9.9"\n');
    const result = await runCli(['start', '-c', file, ...LISTEN]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid\.yml:1:\d+/);
    const badListen = await runCli(['start', '--proxy-listen', 'not-an-address']);
    assert.equal(badListen.code, 1);
    assert.match(badListen.stderr, /proxy.listen/i);
    const envListen = await runCli(['start', ...LISTEN.slice(2)], { SLUICE_PROXY_LISTEN: 'nope:nope' });
    assert.equal(envListen.code, 1);
    assert.match(envListen.stderr, /SLUICE_PROXY_LISTEN/);
    const redis = await runCli(['start', ...LISTEN], { SLUICE_ENGINE: 'redis', SLUICE_REDIS_URL: 'redis://127.0.0.1:6379/zero' });
    assert.equal(redis.code, 1);
    assert.match(redis.stderr, /SLUICE_REDIS_URL: invalid redis URL "redis:\/\/127\.0\.0\.1:6379\/zero": database must be a number/);
  });
});
