import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli, RunningCli, type LogLine } from '../helpers/cli.ts';
import { openEventSource, type TrackedEventSource } from '../helpers/eventsource.ts';
import { startServer } from '../helpers/servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
const SUB_ROUTE = `routes:
  - name: sub
    paths: ["~/sub/(?<id>[a-z0-9]+)$"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.id)"], transports: [eventsource], eventsource_retry: 100 }
`;
const CONFIG = `_format_version: "3.0"\n${SUB_ROUTE}`;
const RELOADED = `${CONFIG}  - name: hello
    paths: [/hello]
    plugins:
      - name: request-termination
        config: { status_code: 200, message: reloaded }
`;
const LISTEN = ['--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--internal-listen', '127.0.0.1:0'];

/** A GET on a fresh connection (each new connection may go to the other worker). */
function freshGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; worker: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: String(res.headers['x-sluice-worker']), body }));
    }).on('error', reject);
  });
}

/** A streaming GET on a fresh connection: resolves at the head; `body` resolves when the stream ends. */
function openStream(url: string): Promise<{ status: number; worker: string; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (c: string) => (text += c));
      const body = new Promise<string>((ok) => res.once('end', () => ok(text)));
      resolve({ status: res.statusCode ?? 0, worker: String(res.headers['x-sluice-worker']), body });
    }).on('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('sluice start --workers 2 (memory engine shared through the primary)', () => {
  let cli: RunningCli;
  let listening: LogLine;
  let proxy: string;
  let internal: string;
  let admin: string;
  let pids: string[];
  const file = join(dir, 'kong.yml');
  const subscribers: TrackedEventSource[] = [];

  const publish = async (channel: string, text: string) => {
    const res = await request(`${internal}/pub/${channel}`, { method: 'POST', body: text, headers: { 'content-type': 'text/plain' } });
    await res.body.dump();
    return res.statusCode;
  };
  const channelInfo = async (channel: string) => JSON.parse((await freshGet(`${internal}/pub/${channel}`, { accept: 'application/json' })).body) as { subscribers: number; messages: number };

  before(async () => {
    writeFileSync(file, CONFIG);
    cli = new RunningCli(['-c', file, '--workers', '2', ...LISTEN, '--drain-timeout', '5']);
    listening = await cli.waitFor('listening');
    proxy = `http://${listening.listeners?.proxy[0]}`;
    internal = `http://${listening.listeners?.internal[0]}`;
    admin = `http://${listening.listeners?.admin[0]}`;
    pids = (listening.workers as number[]).map(String);
  });
  after(() => {
    for (const s of subscribers) s.close();
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    for (const pid of pids ?? []) if (alive(Number(pid))) process.kill(Number(pid), 'SIGKILL');
  });

  test('one listening line with the shared addresses and the two worker pids', () => {
    assert.equal(cli.lines.filter((l) => l.event === 'listening').length, 1);
    assert.equal(pids.length, 2);
    assert.notEqual(pids[0], pids[1]);
    assert.ok(!pids.includes(String(cli.child.pid)), 'the primary serves no traffic');
    assert.match(proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('subscribers on both workers all receive a message published once; counts are global', async () => {
    while (subscribers.length < 8 || new Set(subscribers.map((s) => s.worker)).size < 2) {
      assert.ok(subscribers.length < 40, 'connections reach both workers');
      subscribers.push(await openEventSource(`${proxy}/sub/news`));
    }
    assert.deepEqual(new Set(subscribers.map((s) => s.worker)), new Set(pids));
    assert.equal(await publish('news', 'm1'), 201);
    for (const s of subscribers) assert.deepEqual((await s.wait(1)).map((e) => e.data), ['m1']);
    assert.equal((await channelInfo('news')).subscribers, subscribers.length);
    const seenBy = new Set<string>();
    for (let i = 0; i < 20 && seenBy.size < 2; i++) {
      const status = await freshGet(`${admin}/status`);
      seenBy.add(status.worker);
      const pubsub = (JSON.parse(status.body) as { pubsub: { subscribers: number; published_messages: number } }).pubsub;
      assert.deepEqual([pubsub.subscribers, pubsub.published_messages], [subscribers.length, 1], `admin /status on worker ${status.worker}`);
    }
    assert.deepEqual(seenBy, new Set(pids), 'both workers answered the admin API with the same global counters');
  });

  test('resume by last_event_id works on any worker', async () => {
    const first = subscribers[0] as TrackedEventSource;
    const m1 = (first.received[0] as { id: string }).id;
    assert.equal(await publish('news', 'm2'), 201);
    assert.equal(await publish('news', 'm3'), 201);
    const resumed: TrackedEventSource[] = [];
    while (resumed.length < 2 || new Set(resumed.map((s) => s.worker)).size < 2) {
      assert.ok(resumed.length < 20, 'resumed connections reach both workers');
      const s = await openEventSource(`${proxy}/sub/news?last_event_id=${encodeURIComponent(m1)}`);
      resumed.push(s);
      assert.deepEqual((await s.wait(2)).map((e) => e.data), ['m2', 'm3'], `resumed on worker ${s.worker}`);
      s.close();
    }
  });

  test('a killed worker is replaced; its subscribers reconnect and resume without loss or duplicates', async () => {
    for (const s of subscribers) await s.wait(3);
    const victim = pids[0] as string;
    const orphans = subscribers.filter((s) => s.worker === victim);
    assert.ok(orphans.length > 0);
    const exited = cli.next('worker_exit');
    const started = cli.next('worker_started');
    process.kill(Number(victim), 'SIGKILL');
    assert.equal((await exited).worker, Number(victim));
    // Published while the orphans are reconnecting: they get it from the buffer or live, once.
    assert.ok([201, 202].includes(await publish('news', 'm4')));
    const replacement = String((await started).worker);
    assert.ok(alive(Number(replacement)) && !pids.includes(replacement));
    pids = [pids[1] as string, replacement];
    for (const s of subscribers) assert.deepEqual((await s.wait(4)).map((e) => e.data), ['m1', 'm2', 'm3', 'm4']);
    for (const s of orphans) assert.ok(s.workers.length >= 2 && s.worker !== victim, 'the orphan reconnected to a live worker');
    assert.equal((await channelInfo('news')).subscribers, subscribers.length, 'the dead worker\'s subscribers are no longer counted');
  });

  test('SIGHUP reloads the config on every worker', async () => {
    assert.equal((await freshGet(`${proxy}/hello`)).status, 404);
    writeFileSync(file, RELOADED);
    const reloaded = cli.collect('reloaded', 2);
    cli.child.kill('SIGHUP');
    assert.deepEqual(new Set((await reloaded).map((l) => String(l.pid))), new Set(pids));
    const answeredBy = new Set<string>();
    for (let i = 0; i < 20 && answeredBy.size < 2; i++) {
      const res = await freshGet(`${proxy}/hello`);
      assert.equal(res.status, 200, `worker ${res.worker}`);
      answeredBy.add(res.worker);
    }
    assert.deepEqual(answeredBy, new Set(pids));
  });

  test('POST /config on the Admin API reaches every worker (relayed by the primary)', async () => {
    const posted = `${CONFIG}  - name: posted
    paths: [/posted]
    plugins:
      - name: request-termination
        config: { status_code: 200, message: posted }
`;
    const relayed = cli.next('config_relayed');
    const applied = cli.next('reloaded', (line) => line.trigger === 'admin_relay');
    const res = await request(`${admin}/config`, { method: 'POST', body: posted, headers: { 'content-type': 'text/yaml' } });
    await res.body.dump();
    assert.equal(res.statusCode, 201);
    const from = String((await relayed).from);
    const other = await applied;
    assert.notEqual(String(other.pid), from, 'the other worker applied it');
    const answeredBy = new Set<string>();
    for (let i = 0; i < 20 && answeredBy.size < 2; i++) {
      const hit = await freshGet(`${proxy}/posted`);
      assert.equal(hit.status, 200, `worker ${hit.worker}`);
      answeredBy.add(hit.worker);
    }
    assert.deepEqual(answeredBy, new Set(pids));
  });

  test('DELETE on the publisher API closes the channel\'s streams on every worker with 410', async () => {
    const streams: { worker: string; body: Promise<string> }[] = [];
    while (streams.length < 4 || new Set(streams.map((s) => s.worker)).size < 2) {
      assert.ok(streams.length < 20, 'streams reach both workers');
      const stream = await openStream(`${proxy}/sub/doomed`);
      assert.equal(stream.status, 200);
      streams.push(stream);
    }
    assert.equal((await channelInfo('doomed')).subscribers, streams.length);
    const deleted = await request(`${internal}/pub/doomed`, { method: 'DELETE' });
    await deleted.body.dump();
    assert.equal(deleted.statusCode, 200);
    for (const s of streams) assert.match(await s.body, /:410: 410 Gone\n\n$/, `stream on worker ${s.worker}`);
  });

  test('SIGTERM drains every worker and the primary exits 0', async () => {
    for (const s of subscribers) s.close();
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
    for (const pid of pids) assert.ok(!alive(Number(pid)), `worker ${pid} has exited`);
    assert.ok(cli.lines.some((l) => l.event === 'stopped' && l.pid === cli.child.pid));
  });
});

test('a worker that cannot bind stops the start-up with exit code 1', async () => {
  const holder = await startServer(() => {});
  try {
    const file = join(dir, 'empty.yml');
    writeFileSync(file, '_format_version: "3.0"\n');
    const result = await runCli(['start', '-c', file, '--workers', '2', '--proxy-listen', `127.0.0.1:${holder.port}`, '--admin-listen', 'off', '--internal-listen', 'off']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${holder.port} for the proxy listener: address already in use`));
    assert.match(result.stderr, /exited during start-up/);
  } finally {
    await holder.close();
  }
});
