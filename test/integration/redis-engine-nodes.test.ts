/**
 * The redis engine as several nodes see it: engines sharing one namespace are nodes of one
 * cluster. What one node publishes, deletes or counts, the others see.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { createClient } from 'redis';
import type { ChannelEvent, ChannelStorage } from '../../src/pubsub/engine.ts';
import { createRedisEngine, type RedisEngine, type RedisEngineOptions } from '../../src/pubsub/engines/redis/index.ts';
import { formatMessageId } from '../../src/pubsub/message-id.ts';
import { dropNamespace, redisForSuite, testNamespace } from '../helpers/redis.ts';

const STORE: ChannelStorage = { bufferLength: 10, messageTimeout: 3600, channelTimeout: 0 };

/** Collects a listener's events; `next(n)` resolves once n events arrived in total. */
function recorder() {
  const events: ChannelEvent[] = [];
  let wake: (() => void) | undefined;
  return {
    events,
    listener: (e: ChannelEvent) => {
      events.push(e);
      wake?.();
    },
    texts: () => events.flatMap((e) => (e.type === 'message' ? [e.message.data.toString()] : [e.type])),
    async next(n: number): Promise<void> {
      while (events.length < n) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}

/** Polls `read` until `ok` holds (a lease lapsing takes real time); fails after `ms`. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const url = await redisForSuite('redis engine across nodes');
if (url !== undefined) {
  describe('redis engine: several nodes on one Redis', () => {
    const run = testNamespace('nodes');
    let n = 0;
    let engines: RedisEngine[] = [];
    const redis = createClient({ url });
    redis.on('error', () => {});

    /** `count` nodes sharing a fresh namespace. */
    async function nodes(count: number, options: Partial<RedisEngineOptions> = {}): Promise<RedisEngine[]> {
      const namespace = `${run}${n++}:`;
      const made = Array.from({ length: count }, () => createRedisEngine({ url, namespace, ...options }));
      engines.push(...made);
      await Promise.all(made.map((e) => e.ready()));
      return made;
    }
    /** Connections subscribed in Redis to the channel's notifications (latest namespace). */
    const numsub = async (channel: string): Promise<number> => {
      if (!redis.isOpen) await redis.connect();
      const reply = await redis.sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', `${run}${n - 1}:ch:{${channel}}:n`]);
      return Number(reply[1]);
    };

    afterEach(async () => {
      await Promise.all(engines.map((e) => e.close()));
      engines = [];
    });
    after(async () => {
      if (redis.isOpen) redis.destroy();
      await dropNamespace(url, run);
    });

    it('a message published on one node reaches listeners on every node, once each, in order', async () => {
      const [a, b, c] = await nodes(3) as [RedisEngine, RedisEngine, RedisEngine];
      const onA = recorder();
      const onB = recorder();
      await a.subscribe('room', onA.listener);
      await b.subscribe('room', onB.listener);
      for (const text of ['1', '2', '3']) await c.publish('room', { data: Buffer.from(text) }, STORE);
      await Promise.all([onA.next(3), onB.next(3)]);
      assert.deepEqual(onA.texts(), ['1', '2', '3']);
      assert.deepEqual(onB.texts(), ['1', '2', '3']);
    });

    it('a node subscribes in Redis only while it has local listeners, once per channel', async () => {
      const [a] = await nodes(1) as [RedisEngine];
      assert.equal(await numsub('quiet'), 0);
      const stop1 = await a.subscribe('quiet', () => {});
      const stop2 = await a.subscribe('quiet', () => {});
      assert.equal(await numsub('quiet'), 1);
      await stop1();
      assert.equal(await numsub('quiet'), 1);
      await stop2();
      assert.equal(await eventually(() => numsub('quiet'), (v) => v === 0), 0);
    });

    it('resume reads the shared buffer: a subscriber continues on another node without loss or duplicates', async () => {
      const [a, b] = await nodes(2) as [RedisEngine, RedisEngine];
      const ids: string[] = [];
      for (const text of ['a', 'b', 'c', 'd']) ids.push(formatMessageId((await a.publish('feed', { data: Buffer.from(text) }, STORE)).message.id));
      const seenOnA = (await a.fetch('feed', { kind: 'oldest' })).messages.slice(0, 2);
      const lastSeen = seenOnA[1];
      assert.ok(lastSeen);
      const rest = await b.fetch('feed', { kind: 'after', id: lastSeen.id });
      assert.deepEqual(rest.messages.map((m) => m.data.toString()), ['c', 'd']);
      assert.deepEqual(rest.messages.map((m) => formatMessageId(m.id)), ids.slice(2));
    });

    it('subscriber counts are summed over nodes, and publish answers with the sum', async () => {
      const [a, b] = await nodes(2) as [RedisEngine, RedisEngine];
      await a.addSubscriber('count', { storage: STORE });
      await a.addSubscriber('count', { storage: STORE });
      await b.addSubscriber('count', { storage: STORE });
      assert.equal((await a.info('count'))?.subscribers, 3);
      assert.equal((await b.publish('count', { data: Buffer.from('x') }, STORE)).channel.subscribers, 3);
      assert.deepEqual(await b.addSubscriber('count', { storage: STORE, maxSubscribers: 3 }), { ok: false, reason: 'TOO_MANY_SUBSCRIBERS' });
      assert.equal(await a.removeSubscriber('count'), 2);
      assert.equal((await b.stats()).subscribers, 2);
    });

    it('a node that stops renewing its lease stops being counted', async () => {
      const [live] = await nodes(1);
      const namespace = `${run}${n - 1}:`;
      // A node that died: its lease (1.5 s) is only renewed by its own calls.
      const dead = createRedisEngine({ url, namespace, leaseMs: 1500, heartbeatMs: 3_600_000 });
      engines.push(dead);
      await dead.ready();
      assert.ok((await dead.addSubscriber('lease', { storage: STORE })).ok);
      await live!.addSubscriber('lease', { storage: STORE });
      assert.equal((await live!.info('lease'))?.subscribers, 2);
      const after = await eventually(async () => (await live!.info('lease'))?.subscribers, (s) => s === 1);
      assert.equal(after, 1, 'only the live node counts once the dead one’s lease lapsed');
    });

    it('a node closing stops being counted at once', async () => {
      const [a, b] = await nodes(2) as [RedisEngine, RedisEngine];
      await a.addSubscriber('bye', { storage: STORE });
      await b.addSubscriber('bye', { storage: STORE });
      await b.close();
      assert.equal((await a.info('bye'))?.subscribers, 1);
    });

    it('delete on one node ends the channel for listeners on the others', async () => {
      const [a, b] = await nodes(2) as [RedisEngine, RedisEngine];
      const onA = recorder();
      await a.subscribe('gone', onA.listener);
      await b.publish('gone', { data: Buffer.from('last words') }, STORE);
      const info = await b.delete('gone');
      assert.equal(info?.messages, 1);
      await onA.next(2);
      assert.deepEqual(onA.texts(), ['last words', 'deleted']);
      assert.equal(await a.info('gone'), null);
    });
  });
}
