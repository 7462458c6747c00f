/**
 * Two gateway nodes (two Gateway instances, each with its own redis engine) on one Redis, as a
 * user sees them: subscribe on one node, publish on the other; resume on another node; DELETE on
 * one node closes subscribers on the other; channel info sums the nodes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { request } from 'undici';
import { createRedisEngine } from '../../src/pubsub/engines/redis/index.ts';
import { dropNamespace, redisForSuite, testNamespace } from '../helpers/redis.ts';
import { messages, opened, redisNode, type RedisNode } from '../helpers/redis-nodes.ts';

const url = await redisForSuite('two gateway nodes on redis');
if (url !== undefined) {
  describe('two gateway nodes sharing channels through Redis', () => {
    const namespace = testNamespace('gateways');
    let a: RedisNode;
    let b: RedisNode;

    before(async () => {
      a = await redisNode(createRedisEngine({ url, namespace }));
      b = await redisNode(createRedisEngine({ url, namespace }));
    });
    after(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await dropNamespace(url, namespace);
    });

    const publish = (node: { internalUrl: string }, channel: string, body: string) =>
      request(`${node.internalUrl}/pub/${channel}`, { method: 'POST', body, headers: { accept: 'application/json' } });
    const info = async (node: { internalUrl: string }, channel: string) => {
      const res = await request(`${node.internalUrl}/pub/${channel}`, { headers: { accept: 'application/json' } });
      return { status: res.statusCode, body: res.statusCode === 200 ? (await res.body.json()) as { subscribers: number; messages: number } : (await res.body.dump(), undefined) };
    };

    it('an EventSource subscriber on node A receives what node B publishes', async () => {
      const source = new EventSource(`${a.proxyUrl}/sub/cross`);
      try {
        await opened(source);
        const got = messages(source, 2);
        const first = await publish(b, 'cross', 'from b');
        assert.equal(first.statusCode, 201, 'node B counts the subscriber on node A');
        await first.body.dump();
        await (await publish(a, 'cross', 'from a')).body.dump();
        assert.deepEqual((await got).map((m) => m.data), ['from b', 'from a']);
      } finally {
        source.close();
      }
    });

    it('a subscriber resumes on the other node with last_event_id: no loss, no duplicates', async () => {
      const ids: string[] = [];
      for (const text of ['one', 'two', 'three']) {
        const res = await publish(a, 'resume', text);
        ids.push(((await res.body.json()) as { last_message_id: string }).last_message_id);
      }
      const source = new EventSource(`${b.proxyUrl}/sub/resume?last_event_id=${encodeURIComponent(ids[0] ?? '')}`);
      try {
        const got = messages(source, 3);
        await opened(source);
        await (await publish(a, 'resume', 'four')).body.dump();
        assert.deepEqual(await got, [
          { data: 'two', id: ids[1] },
          { data: 'three', id: ids[2] },
          { data: 'four', id: (await got)[2]?.id },
        ]);
      } finally {
        source.close();
      }
    });

    it('channel info sums the subscribers of both nodes', async () => {
      const onA = new EventSource(`${a.proxyUrl}/sub/sum`);
      const onB = new EventSource(`${b.proxyUrl}/sub/sum`);
      const alsoB = new EventSource(`${b.proxyUrl}/sub/sum`);
      try {
        await Promise.all([opened(onA), opened(onB), opened(alsoB)]);
        for (const node of [a, b]) assert.deepEqual([(await info(node, 'sum')).body?.subscribers], [3]);
        onB.close();
        const deadline = Date.now() + 5000;
        while ((await info(a, 'sum')).body?.subscribers !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.equal((await info(a, 'sum')).body?.subscribers, 2, 'a subscriber leaving node B is uncounted everywhere');
      } finally {
        for (const s of [onA, onB, alsoB]) s.close();
      }
    });

    it('DELETE on node B closes the subscribers on node A with 410', async () => {
      const stream = await request(`${a.proxyUrl}/sub/doomed`, { headers: { accept: 'text/event-stream' } });
      assert.equal(stream.statusCode, 200);
      const text = stream.body.text();
      const deleted = await request(`${b.internalUrl}/pub/doomed`, { method: 'DELETE', headers: { accept: 'application/json' } });
      assert.equal(deleted.statusCode, 200);
      assert.equal(((await deleted.body.json()) as { subscribers: number }).subscribers, 1);
      assert.match(await text, /:410: 410 Gone\n\n$/, 'the stream ends with nchan\'s 410 frame');
      assert.equal((await info(a, 'doomed')).status, 404);
    });
  });
}
