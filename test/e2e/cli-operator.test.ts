import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli, RunningCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-ops-'));
const TOKEN = 'internal-secret';
const CONFIG = `_format_version: "3.0"
routes:
  - name: events
    paths: ["~/events/(?<ch>[a-z0-9:-]+)$"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.ch)"], transports: [eventsource] }
`;

interface Row {
  id: string;
  messages: number;
  subscribers: number;
  last_message_id: string | null;
  requested: number;
}

describe('sluice publish / status / channels against a running gateway', () => {
  let cli: RunningCli;
  let proxy: string;
  let adminUrl: string;
  let internalUrl: string;

  before(async () => {
    const file = join(dir, 'kong.yml');
    writeFileSync(file, CONFIG);
    cli = new RunningCli(['-c', file, '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--internal-listen', '127.0.0.1:0', '--internal-token', TOKEN]);
    const listening = await cli.waitFor('listening');
    proxy = `http://${listening.listeners?.proxy[0]}`;
    adminUrl = `http://${listening.listeners?.admin[0]}`;
    internalUrl = `http://${listening.listeners?.internal[0]}`;
  });
  after(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
  });

  const withInternal = { SLUICE_INTERNAL_URL: '', SLUICE_INTERNAL_TOKEN: TOKEN };

  test('publish: --data, --event and --content-type reach a subscriber; stdin works too', async () => {
    const sse = await request(`${proxy}/events/chat:1`, { headers: { accept: 'text/event-stream' } });
    const chunks = sse.body[Symbol.asyncIterator]();
    assert.match(String((await chunks.next()).value), /^: hi/);
    const sent = await runCli(['publish', 'chat:1', '--data', 'hello', '--event', 'greeting', '--content-type', 'text/plain', '--internal-url', internalUrl], withInternal);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^published \d+:0 to chat:1 \(1 subscriber, 1 stored\)\n$/);
    assert.match(String((await chunks.next()).value), /^event: greeting\nid: \d+:0\ndata: hello\n\n$/);

    const piped = await runCli(['publish', 'chat:1', '--json'], { ...withInternal, SLUICE_INTERNAL_URL: internalUrl }, 'line one\nline two');
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal((JSON.parse(piped.stdout) as { messages: number }).messages, 2);
    assert.match(String((await chunks.next()).value), /data: line one\ndata: line two\n\n$/);
    await chunks.return?.();
  });

  test('publish: a refused publish prints the listener\'s message; no token is a 401', async () => {
    const meta = await runCli(['publish', 'meta/x', '--data', 'x', '--internal-url', internalUrl], withInternal);
    assert.equal(meta.code, 1);
    assert.equal(meta.stderr, 'sluice: the internal listener answered 403: meta/ channels carry channel events; nobody publishes to them\n');
    const noToken = await runCli(['publish', 'chat:1', '--data', 'x', '--internal-url', internalUrl], { SLUICE_INTERNAL_TOKEN: '' });
    assert.equal(noToken.code, 1);
    assert.equal(noToken.stderr, 'sluice: the internal listener answered 401: Unauthorized\n');
  });

  test('status: a human summary, or the /status JSON', async () => {
    const human = await runCli(['status', '--admin-url', adminUrl]);
    assert.equal(human.code, 0, human.stderr);
    const lines = human.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^sluice \d+\.\d+\.\d+ on \S+ \(node [0-9a-f-]{36}\)$/);
    assert.match(human.stdout, /^configuration {2}[0-9a-f]{32}$/m);
    assert.match(human.stdout, /^connections {4}\d+ active$/m);
    assert.match(human.stdout, /^memory {9}[\d.]+ MiB rss, [\d.]+ MiB heap$/m);
    assert.match(human.stdout, /^pub\/sub {8}\d+ channels?, \d+ subscribers?, \d+ messages? stored, \d+ published, 0 slow-consumer closes$/m);
    const json = await runCli(['status', '--json'], { SLUICE_ADMIN_URL: adminUrl });
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { configuration_hash: string; pubsub: { published_messages: number } };
    assert.match(body.configuration_hash, /^[0-9a-f]{32}$/);
    assert.ok(body.pubsub.published_messages >= 2);
  });

  test('channels: walks every page into one table or JSON array, filtered by prefix', async () => {
    for (const ch of ['news:a', 'news:b', 'news:c', 'sport:a']) {
      const r = await request(`${internalUrl}/pub/${ch}`, { method: 'POST', body: ch, headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.statusCode, 202);
      await r.body.dump();
    }
    const json = await runCli(['channels', '--json', '--page-size', '1', '--admin-url', adminUrl]);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as Row[];
    assert.deepEqual(rows.map((r) => r.id), ['chat:1', 'news:a', 'news:b', 'news:c', 'sport:a']);
    assert.equal(rows[0]?.messages, 2);

    const table = await runCli(['channels', 'news:', '--page-size', '2', '--admin-url', adminUrl]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^CHANNEL\s+MESSAGES\s+SUBSCRIBERS\s+LAST MESSAGE ID\s+LAST REQUESTED$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), ['news:a', 'news:b', 'news:c']);
    assert.match(lines[1] ?? '', /^news:a\s+1\s+0\s+\d+:0\s+never$/);
  });

  test('an error answer prints the API\'s message', async () => {
    const wrongListener = await runCli(['channels', '--admin-url', proxy]);
    assert.equal(wrongListener.code, 1);
    assert.equal(wrongListener.stderr, 'sluice: the admin API answered 404: no Route matched with those values\n');
  });
});
