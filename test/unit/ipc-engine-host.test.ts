import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import type { ChannelEvent, ChannelStorage, Engine } from '../../src/pubsub/engine.ts';
import { createEngineHost, createIpcEngine, type EngineHost, type EnginePort } from '../../src/pubsub/engines/ipc/index.ts';
import { createMemoryEngine } from '../../src/pubsub/engines/memory/index.ts';
import { isPubsubError } from '../../src/pubsub/errors.ts';
import { messagePortAdapter } from '../helpers/ipc-engine.ts';

const STORE: ChannelStorage = { bufferLength: 10, messageTimeout: 60, channelTimeout: 0 };

/** A worker-side engine whose incoming channel events are counted (what the primary sends). */
function worker(host: EngineHost) {
  const { port1, port2 } = new MessageChannel();
  const detach = host.attach(messagePortAdapter(port1));
  const counted = { events: 0 };
  const inner = messagePortAdapter(port2);
  const port: EnginePort = {
    ...inner,
    onMessage: (handler) => inner.onMessage((m) => {
      if ((m as { t?: string }).t === 'event') counted.events++;
      handler(m);
    }),
  };
  /** Resolves once the primary has released what the worker held. */
  const detached = new Promise<void>((resolve) => port1.once('close', () => resolve())).then(detach);
  return { engine: createIpcEngine(port), counted, kill: () => port2.close(), detached, raw: port2 };
}

describe('ipc engine host (the primary side of workers)', () => {
  let primary: Engine;
  let host: EngineHost;
  const cleanups: (() => unknown)[] = [];
  const setup = () => {
    primary = createMemoryEngine({ sweepIntervalMs: 0 });
    host = createEngineHost(primary);
    cleanups.push(() => host.close(), () => primary.close());
  };
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  test('a message published on one worker reaches listeners on every worker, sent once per worker', async () => {
    setup();
    const a = worker(host);
    const b = worker(host);
    cleanups.push(a.kill, b.kill);
    const seen: string[] = [];
    const listen = (name: string) => (e: ChannelEvent) => { if (e.type === 'message') seen.push(`${name}:${e.message.data.toString()}`); };
    await a.engine.subscribe('news', listen('a1'));
    for (const n of ['b1', 'b2', 'b3']) await b.engine.subscribe('news', listen(n));
    const published = await a.engine.publish('news', { data: Buffer.from('hi'), contentType: 'text/plain' }, STORE);
    assert.ok(Buffer.isBuffer(published.message.data));
    const info = await b.engine.info('news'); // b's reply comes after the event the primary sent it first
    assert.equal(info?.messages, 1);
    assert.deepEqual(seen.sort(), ['a1:hi', 'b1:hi', 'b2:hi', 'b3:hi']);
    assert.equal(b.counted.events, 1, 'one event for the worker, fanned out to its three listeners locally');
    const [stored] = (await b.engine.fetch('news', { kind: 'oldest' })).messages;
    assert.ok(stored && Buffer.isBuffer(stored.data) && stored.contentType === 'text/plain');
  });

  test('the last local listener going away stops the events for that worker only', async () => {
    setup();
    const a = worker(host);
    const b = worker(host);
    cleanups.push(a.kill, b.kill);
    const stopA = await a.engine.subscribe('news', () => {});
    await b.engine.subscribe('news', () => {});
    await stopA();
    await b.engine.publish('news', { data: Buffer.from('x') }, STORE);
    await a.engine.info('news');
    assert.equal(a.counted.events, 0);
    assert.equal(b.counted.events, 1);
  });

  test('a worker that dies stops being counted; another worker cannot uncount what it did not count', async () => {
    setup();
    const a = worker(host);
    const b = worker(host);
    cleanups.push(b.kill);
    await a.engine.addSubscriber('news', { storage: STORE });
    await a.engine.addSubscriber('news', { storage: STORE });
    await a.engine.subscribe('news', () => {});
    await b.engine.addSubscriber('news', { storage: STORE });
    assert.equal((await b.engine.info('news'))?.subscribers, 3);
    assert.equal(await b.engine.removeSubscriber('other'), 0);
    a.kill();
    await a.detached;
    assert.equal((await b.engine.info('news'))?.subscribers, 1);
    assert.equal(await b.engine.removeSubscriber('news'), 0);
    assert.equal(await b.engine.removeSubscriber('news'), 0, 'nothing left that b counted');
    await b.engine.publish('news', { data: Buffer.from('after') }, STORE); // no listener left on the dead port
  });

  test('messages that are not engine calls are ignored and the host keeps serving', async () => {
    setup();
    const a = worker(host);
    cleanups.push(a.kill);
    a.raw.postMessage('hello');
    a.raw.postMessage({ kind: 'sluice:engine', t: 'call', id: 'x', op: 'publish', args: [] });
    a.raw.postMessage({ kind: 'sluice:engine', t: 'call', id: 99, op: 'shutdown', args: [] });
    a.raw.postMessage({ kind: 'sluice:ready', addresses: {} });
    assert.deepEqual(await a.engine.stats(), { published: 0, stored: 0, channels: 0, subscribers: 0 });
  });

  test('errors keep their codes across the pipe; a closed primary engine answers ENGINE_CLOSED', async () => {
    setup();
    const a = worker(host);
    cleanups.push(a.kill);
    await primary.close();
    await assert.rejects(a.engine.info('news'), (e: unknown) => isPubsubError(e, 'ENGINE_CLOSED'));
  });

  test('a worker whose primary is gone fails its calls with ENGINE_CLOSED instead of hanging', async () => {
    setup();
    const { port1, port2 } = new MessageChannel();
    const engine = createIpcEngine(messagePortAdapter(port2));
    const pending = engine.info('news'); // never answered: nobody serves port1
    port1.close();
    await assert.rejects(pending, (e: unknown) => isPubsubError(e, 'ENGINE_CLOSED'));
    await assert.rejects(engine.publish('news', { data: Buffer.from('x') }, STORE), (e: unknown) => isPubsubError(e, 'ENGINE_CLOSED'));
  });
});
