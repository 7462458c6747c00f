/**
 * Gateway nodes on the redis engine, for tests: a gateway whose one route
 * (`/sub/<channel>`, EventSource and long-poll) subscribes, with an internal listener for the
 * publisher API, plus EventSource helpers.
 *
 * @example
 *   const node = await redisNode(createRedisEngine({ url, namespace }));
 *   const source = new EventSource(`${node.proxyUrl}/sub/room`); await opened(source);
 *   await request(`${node.internalUrl}/pub/room`, { method: 'POST', body: 'hi' });
 *   server.pause(); await publishRefusedWithin(node.internalUrl, 'room', 1000); // a hung Redis: 503 in ~1 s
 */
import assert from 'node:assert/strict';
import type { EventSource } from 'eventsource';
import { request } from 'undici';
import type { RedisEngine } from '../../src/pubsub/engines/redis/index.ts';
import { startGatewayWithInternal, type TestGateway } from './gateway.ts';

export type RedisNode = TestGateway & { readonly internalUrl: string };

export const SUBSCRIBER_CONFIG = `_format_version: "3.0"
routes:
  - name: events
    paths: ["~/sub/(?<ch>[a-z0-9-]+)$"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: ["$(uri_captures.ch)"], transports: [eventsource, longpoll] }
`;

/** A gateway with proxy + internal listeners on port 0, using `engine`; `close()` closes both. */
export async function redisNode(engine: RedisEngine): Promise<RedisNode> {
  await engine.ready();
  const gw = await startGatewayWithInternal(SUBSCRIBER_CONFIG, { engine });
  return {
    ...gw,
    close: async () => {
      await gw.close();
      await engine.close();
    },
  };
}

/** Waits for the first `count` EventSource messages (data + id). */
export function messages(source: EventSource, count: number): Promise<{ data: string; id: string }[]> {
  const got: { data: string; id: string }[] = [];
  return new Promise((resolve, reject) => {
    source.addEventListener('error', () => reject(new Error(`EventSource failed after ${got.length} message(s)`)), { once: true });
    source.addEventListener('message', (e) => {
      got.push({ data: e.data, id: e.lastEventId });
      if (got.length === count) resolve(got);
    });
  });
}

export const opened = (source: EventSource) => new Promise<void>((resolve, reject) => {
  source.addEventListener('open', () => resolve(), { once: true });
  source.addEventListener('error', () => reject(new Error('EventSource did not open')), { once: true });
});

/**
 * Publishes to `channel` on the internal listener at `internalUrl` while Redis is hung and asserts
 * the publisher gets 503 `ENGINE_UNAVAILABLE` after about `timeoutMs` (the command timeout the
 * node was given): not before, and well before the engine's 3000 ms default would answer.
 */
export async function publishRefusedWithin(internalUrl: string, channel: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  const res = await request(`${internalUrl}/pub/${channel}`, { method: 'POST', body: 'stuck' });
  const took = Date.now() - started;
  assert.equal(res.statusCode, 503);
  assert.equal(((await res.body.json()) as { code: string }).code, 'ENGINE_UNAVAILABLE');
  assert.ok(took >= timeoutMs * 0.9 && took < timeoutMs + 2000, `answered after ${took} ms, bounded by the ${timeoutMs} ms command timeout`);
}
