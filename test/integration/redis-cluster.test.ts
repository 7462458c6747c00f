/**
 * Two gateway nodes on one Redis Cluster (three masters, each with a replica), as a user sees
 * them: channels on every master delivered across nodes, resumed on the other node, counted by
 * both; then a master is SIGKILLed while a publisher keeps publishing, and every message that was
 * acknowledged with 201/202 reaches the subscriber (and stays fetchable) once a replica took over.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { request } from 'undici';
import { createRedisEngine } from '../../src/pubsub/engines/redis/index.ts';
import { startGatewayWithInternal } from '../helpers/gateway.ts';
import { channelsPerMaster, redisClusterForSuite } from '../helpers/redis-cluster.ts';
import { testNamespace } from '../helpers/redis.ts';
import { messages, opened, SUBSCRIBER_CONFIG, type RedisNode } from '../helpers/redis-nodes.ts';

// Room in the buffers for everything the failover test publishes, so the catch-up can replay it.
const CONFIG = `${SUBSCRIBER_CONFIG}channels:
  - name: all
    match: "*"
    message_buffer_length: 1000
`;

const cluster = await redisClusterForSuite('two gateway nodes on a redis cluster', { replicas: true });
if (cluster !== undefined) {
  describe('two gateway nodes on a Redis Cluster', { timeout: 60_000 }, () => {
    const namespace = testNamespace('cluster-gateways');
    let a: RedisNode;
    let b: RedisNode;
    let spread: Map<number, string[]>;

    const node = async (): Promise<RedisNode> => {
      const engine = createRedisEngine({ url: cluster.url, namespace, leaseMs: 3000 });
      await engine.ready();
      const gw = await startGatewayWithInternal(CONFIG, { engine });
      return { ...gw, close: async () => { await gw.close(); await engine.close(); } };
    };
    before(async () => {
      [a, b] = await Promise.all([node(), node()]);
      spread = await channelsPerMaster(cluster, 'ch-', 1);
    });
    after(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await cluster.stop();
    });

    const publish = (at: RedisNode, channel: string, body: string) =>
      request(`${at.internalUrl}/pub/${channel}`, { method: 'POST', body, headers: { accept: 'application/json' } });
    const info = async (at: RedisNode, channel: string) => {
      const res = await request(`${at.internalUrl}/pub/${channel}`, { headers: { accept: 'application/json' } });
      return res.statusCode === 200 ? (await res.body.json()) as { subscribers: number; messages: number } : (await res.body.dump(), undefined);
    };
    const every = () => [...spread.values()].flat();

    it('channels on every master: node A\'s subscribers get what node B publishes, both nodes count them', async () => {
      const channels = every();
      assert.equal(channels.length, 3, 'one channel per master');
      const sources = channels.map((ch) => new EventSource(`${a.proxyUrl}/sub/${ch}`));
      try {
        await Promise.all(sources.map(opened));
        const got = sources.map((s) => messages(s, 2));
        for (const ch of channels) {
          const res = await publish(b, ch, `${ch} from b`);
          assert.equal(res.statusCode, 201, `node B counts node A's subscriber of ${ch}`);
          await res.body.dump();
          await (await publish(a, ch, `${ch} from a`)).body.dump();
        }
        const heard = await Promise.all(got);
        channels.forEach((ch, i) => assert.deepEqual(heard[i]?.map((m) => m.data), [`${ch} from b`, `${ch} from a`]));
        for (const ch of channels) assert.equal((await info(b, ch))?.subscribers, 1);
      } finally {
        for (const s of sources) s.close();
      }
    });

    it('a subscriber resumes on the other node with last_event_id: no loss, no duplicates', async () => {
      for (const ch of every()) {
        const ids: string[] = [];
        for (const text of ['one', 'two', 'three']) {
          const res = await publish(a, `${ch}-r`, text);
          ids.push(((await res.body.json()) as { last_message_id: string }).last_message_id);
        }
        const source = new EventSource(`${b.proxyUrl}/sub/${ch}-r?last_event_id=${encodeURIComponent(ids[0] ?? '')}`);
        try {
          const got = messages(source, 2);
          await opened(source);
          assert.deepEqual(await got, [{ data: 'two', id: ids[1] }, { data: 'three', id: ids[2] }]);
        } finally {
          source.close();
        }
      }
    });

    it('a master is killed mid-publishing: every acknowledged message is delivered and fetchable after the failover', async (t) => {
      const [victim] = await cluster.masters();
      assert.ok(victim);
      const channel = spread.get(victim.port)?.[0] ?? '';
      const source = new EventSource(`${a.proxyUrl}/sub/${channel}`);
      const heard: string[] = [];
      let wake: (() => void) | undefined;
      source.addEventListener('message', (e) => {
        heard.push(e.data);
        wake?.();
      });
      try {
        await opened(source);
        const acked: string[] = [];
        const refused: number[] = [];
        let n = 0;
        let afterFailover = 0;
        let failedOver = false;
        const publishing = (async () => {
          const deadline = Date.now() + 40_000; // a recovery that never comes fails here, with the counts, not as a suite timeout
          while (afterFailover < 5) {
            assert.ok(Date.now() < deadline, `publishing did not recover after the failover: ${acked.length} acknowledged, ${refused.length} answered 503, failed over: ${failedOver}`);
            const text = `m${n++}`;
            const res = await publish(b, channel, text).catch(() => undefined);
            if (res === undefined) continue;
            await res.body.dump();
            if (res.statusCode === 201 || res.statusCode === 202) {
              acked.push(text);
              if (failedOver) afterFailover++;
            } else {
              assert.equal(res.statusCode, 503, 'an unavailable Redis answers 503');
              refused.push(res.statusCode);
            }
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })();
        while (acked.length < 10) await new Promise((resolve) => setTimeout(resolve, 10));
        await cluster.kill(victim.port);
        await cluster.failedOver(victim.port);
        failedOver = true;
        await publishing;
        t.diagnostic(`${acked.length} publishes acknowledged, ${refused.length} answered 503, ${heard.length} heard`);
        assert.ok(refused.length > 0, 'publishes failed while the master was down');
        const deadline = Date.now() + 15_000;
        while (acked.some((m) => !heard.includes(m)) && Date.now() < deadline) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 200);
          });
        }
        assert.deepEqual(acked.filter((m) => !heard.includes(m)), [], 'every acknowledged message reached the subscriber');
        const order = heard.map((m) => Number(m.slice(1)));
        assert.deepEqual(order, [...order].sort((x, y) => x - y), 'in publish order');
        assert.equal(new Set(heard).size, heard.length, 'no duplicates');
        // And it is all still in the buffer, read through the other node.
        const fresh = new EventSource(`${b.proxyUrl}/sub/${channel}?last_event_id=0:0`);
        try {
          const replay = await messages(fresh, heard.length);
          assert.deepEqual(acked.filter((m) => !replay.some((r) => r.data === m)), [], 'every acknowledged message is fetchable');
        } finally {
          fresh.close();
        }
      } finally {
        source.close();
      }
    });
  });
}
