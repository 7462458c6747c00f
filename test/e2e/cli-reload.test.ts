import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { openStream } from '../differential/observe.ts';
import { runCli, RunningCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-reload-'));
const LISTEN = ['--proxy-listen', '127.0.0.1:0', '--admin-listen', 'off', '--internal-listen', '127.0.0.1:0'];

const config = (extra: string) => `_format_version: "3.0"
routes:
  - name: events
    paths: [/events]
    plugins:
      - name: pubsub-subscriber
        config: { channels: [news], transports: [eventsource], first_message: newest }
  - name: ${extra}
    paths: [/${extra}]
    plugins: [{ name: request-termination, config: { status_code: 200, message: ${extra} } }]
`;

describe('sluice start: --watch and SIGTERM with open streams', () => {
  test('--watch reloads on change, keeps the config on a broken or deleted file, and streams stay open throughout; SIGTERM ends them with a retry hint', async () => {
    const file = join(dir, 'kong.yml');
    writeFileSync(file, config('first'));
    const cli = new RunningCli(['-c', file, ...LISTEN, '--watch', '--log-level', 'info']);
    try {
      const listening = await cli.waitFor('listening');
      await cli.waitFor('watching');
      const proxy = `http://${listening.listeners?.proxy[0]}`;
      const publish = async (text: string) => (await request(`http://${listening.listeners?.internal[0]}/pub/news`, { method: 'POST', body: text })).body.dump();
      const answer = async (path: string) => (await request(`${proxy}${path}`)).body.text();
      const stream = await openStream(`${proxy}/events`, { accept: 'text/event-stream' });
      assert.equal(stream.status, 200);

      const reloaded = cli.next('reloaded');
      writeFileSync(file, config('second'));
      assert.equal((await reloaded).trigger, 'watch');
      assert.equal(await answer('/second'), '{"message":"second"}');
      await publish('after a watched reload');
      await stream.until((t) => t.includes('data: after a watched reload'));

      const rejected = cli.next('reload_failed');
      writeFileSync(file, '_format_version: "3.0"\nroutes: [ {{{ broken');
      assert.match(JSON.stringify((await rejected).errors), /kong\.yml/);
      const gone = cli.next('reload_failed');
      rmSync(file);
      assert.match(JSON.stringify((await gone).errors), /kong\.yml/, 'a deleted file is reported');
      assert.equal(await answer('/second'), '{"message":"second"}', 'the running config stays');
      await publish('still open');
      await stream.until((t) => t.includes('data: still open'));

      // Editors that save by renaming a temporary file over the original.
      const back = cli.next('reloaded');
      writeFileSync(join(dir, '.kong.yml.tmp'), config('third'));
      renameSync(join(dir, '.kong.yml.tmp'), file);
      await back;
      assert.equal(await answer('/third'), '{"message":"third"}');

      cli.child.kill('SIGTERM');
      assert.match(await stream.ended, /data: still open\n\n: HUB_CLOSED\nretry: 1000\n\n$/, 'the stream ends with a retry hint');
      assert.equal(await cli.exited, 0);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  test('--watch without a declarative config to watch is a clear start-up error', async () => {
    const result = await runCli(['start', ...LISTEN, '--watch']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--watch\) needs a declarative_config/);
  });
});
