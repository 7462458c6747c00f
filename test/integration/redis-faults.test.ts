/**
 * Redis going away and coming back, against a private redis-server this test kills (SIGKILL)
 * and restarts on the same port (empty: nothing persisted). Assertions are on exactly which
 * messages each subscriber got.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { createClient } from 'redis';
import { request } from 'undici';
import type { ChannelEvent, ChannelStorage } from '../../src/pubsub/engine.ts';
import { createRedisEngine, type RedisEngine } from '../../src/pubsub/engines/redis/index.ts';
import { isPubsubError } from '../../src/pubsub/errors.ts';
import { startRedisServer, type PrivateRedis } from '../helpers/redis.ts';
import { messages, opened, publishRefusedWithin, redisNode } from '../helpers/redis-nodes.ts';

const STORE: ChannelStorage = { bufferLength: 10, messageTimeout: 3600, channelTimeout: 0 };
const unavailable = (e: unknown) => isPubsubError(e, 'ENGINE_UNAVAILABLE');

/** Retries `attempt` until it resolves (Redis is coming back); fails after `ms`. */
async function once<T>(attempt: () => Promise<T>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Redis restarted empty forgets the channel's last id; ids restart at `<now>:0`. Restarting in a
 * later second than the last id keeps them increasing (a same-second restart is the documented
 * limit of running Redis without persistence).
 */
async function restartInALaterSecond(server: PrivateRedis, lastSeconds: number): Promise<void> {
  const wait = (lastSeconds + 1) * 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  await server.restart();
}

// Each test fails (rather than hangs) if a message never arrives.
describe('redis engine faults', { timeout: 90_000 }, () => {
  it('Redis down: calls fail with ENGINE_UNAVAILABLE, listeners stay; back: counts and delivery resume', async (t) => {
    const server = await startRedisServer(t);
    if (server === undefined) return;
    const engine = createRedisEngine({ url: server.url, namespace: 'faults:' });
    try {
      await engine.ready();
      const heard: string[] = [];
      let wake: (() => void) | undefined;
      await engine.subscribe('ch', (e: ChannelEvent) => {
        heard.push(e.type === 'message' ? e.message.data.toString() : e.type);
        wake?.();
      });
      const until = async (n: number) => { while (heard.length < n) await new Promise<void>((r) => (wake = r)); };
      assert.ok((await engine.addSubscriber('ch', { storage: STORE })).ok);
      const before = await engine.publish('ch', { data: Buffer.from('before') }, STORE);
      await until(1);

      await server.kill();
      await assert.rejects(engine.publish('ch', { data: Buffer.from('lost') }, STORE), unavailable);
      await assert.rejects(engine.info('ch'), unavailable);
      await assert.rejects(engine.addSubscriber('ch', { storage: STORE }), unavailable);

      await restartInALaterSecond(server, before.message.id.time);
      await once(() => engine.publish('ch', { data: Buffer.from('after') }, STORE));
      await until(2);
      assert.deepEqual(heard, ['before', 'after'], 'the rejected publish never arrives; the one after recovery does, once');
      const counted = await once(async () => {
        const info = await engine.info('ch');
        if (info?.subscribers !== 1) throw new Error(`subscribers ${info?.subscribers}`);
        return info.subscribers;
      });
      assert.equal(counted, 1, 'the node re-asserted its subscriber count in the new Redis');
    } finally {
      await engine.close();
      await server.stop();
    }
  });

  it('a message published while the pub/sub connection is down is replayed once it is back', async (t) => {
    const server = await startRedisServer(t);
    if (server === undefined) return;
    const engine = createRedisEngine({ url: server.url, namespace: 'gap:' });
    const admin = createClient({ url: server.url });
    admin.on('error', () => {});
    try {
      await Promise.all([engine.ready(), admin.connect()]);
      const heard: string[] = [];
      let wake: (() => void) | undefined;
      await engine.subscribe('gap', (e) => {
        heard.push(e.type === 'message' ? e.message.data.toString() : e.type);
        wake?.();
      });
      await engine.publish('gap', { data: Buffer.from('1') }, STORE);
      // Cut only the engine's subscriber connection; publish before it can come back.
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      await engine.publish('gap', { data: Buffer.from('2') }, STORE);
      await engine.publish('gap', { data: Buffer.from('3') }, STORE);
      while (heard.length < 3) await new Promise<void>((r) => (wake = r));
      await engine.publish('gap', { data: Buffer.from('4') }, STORE);
      while (heard.length < 4) await new Promise<void>((r) => (wake = r));
      assert.deepEqual(heard, ['1', '2', '3', '4']);
    } finally {
      admin.destroy();
      await engine.close();
      await server.stop();
    }
  });

  it('through a gateway: publishers get 503 with a clear body, the subscriber stays and gets what follows', async (t) => {
    const server = await startRedisServer(t);
    if (server === undefined) return;
    const engine: RedisEngine = createRedisEngine({ url: server.url, namespace: 'gw:' });
    const node = await redisNode(engine);
    const source = new EventSource(`${node.proxyUrl}/sub/news`);
    try {
      await opened(source);
      const got = messages(source, 2);
      const pub = (body: string) => request(`${node.internalUrl}/pub/news`, { method: 'POST', body });
      const first = await pub('first');
      assert.equal(first.statusCode, 201);
      await first.body.dump();

      await server.kill();
      const refused = await pub('refused');
      assert.equal(refused.statusCode, 503);
      assert.match(String(refused.headers['content-type']), /json/);
      assert.deepEqual(await refused.body.json(), { message: 'the pub/sub engine (redis) is unavailable; try again shortly', code: 'ENGINE_UNAVAILABLE' });
      assert.equal(source.readyState, EventSource.OPEN, 'the subscriber is still connected');
      const newcomer = await request(`${node.proxyUrl}/sub/news`, { headers: { accept: 'text/event-stream' } });
      assert.equal(newcomer.statusCode, 503, 'a new subscriber is told to come back, not given a dead stream');
      assert.equal(((await newcomer.body.json()) as { code: string }).code, 'ENGINE_UNAVAILABLE');

      await restartInALaterSecond(server, Math.floor(Date.now() / 1000));
      await once(async () => {
        const res = await pub('after recovery');
        await res.body.dump();
        if (res.statusCode >= 300) throw new Error(`publish answered ${res.statusCode}`);
      });
      assert.deepEqual((await got).map((m) => m.data), ['first', 'after recovery']);
    } finally {
      source.close();
      await node.close();
      await server.stop();
    }
  });

  it('a hung Redis (SIGSTOPped): publishes answer 503 within the command timeout; resumed, it works again', async (t) => {
    const server = await startRedisServer(t);
    if (server === undefined) return;
    const node = await redisNode(createRedisEngine({ url: server.url, namespace: 'hung:', commandTimeoutMs: 1000 }));
    try {
      const pub = (body: string) => request(`${node.internalUrl}/pub/hung`, { method: 'POST', body });
      const first = await pub('first');
      assert.equal(first.statusCode, 202);
      await first.body.dump();

      server.pause();
      await publishRefusedWithin(node.internalUrl, 'hung', 1000);

      server.resume();
      await once(async () => {
        const res = await pub('after');
        await res.body.dump();
        if (res.statusCode >= 300) throw new Error(`publish answered ${res.statusCode}`);
      });
    } finally {
      server.resume();
      await node.close();
      await server.stop();
    }
  });
});
