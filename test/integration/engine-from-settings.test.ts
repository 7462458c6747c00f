import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { freePort } from '../../bench/lib/processes.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { engineFromSettings } from '../../src/pubsub/engines/from-settings.ts';
import { isPubsubError } from '../../src/pubsub/errors.ts';
import { request } from 'undici';
import { startGatewayWithInternal } from '../helpers/gateway.ts';
import { dropNamespace, requireRedis, startRedisServer, testNamespace } from '../helpers/redis.ts';
import { publishRefusedWithin, SUBSCRIBER_CONFIG } from '../helpers/redis-nodes.ts';

const STORE = { bufferLength: 10, messageTimeout: 60, channelTimeout: 0 };

/** A logger whose JSON lines the test can read. */
function capture() {
  const stream = new PassThrough();
  const lines: { event?: string; msg?: string; redis?: string }[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as (typeof lines)[number]);
  });
  return { logger: createLogger('info', stream), lines };
}

describe('the engine a node settings ask for', () => {
  it('memory by default', async () => {
    const { logger } = capture();
    const engine = await engineFromSettings({ engine: 'memory', redis_namespace: 'sluice:' }, logger);
    const r = await engine.publish('c', { data: Buffer.from('x') }, STORE);
    assert.equal(r.channel.messages, 1);
    await engine.close();
  });

  it('redis at redis_url under redis_namespace, logging where it connected (without the password)', async (t) => {
    const url = await requireRedis(t);
    if (url === undefined) return;
    const namespace = testNamespace('settings');
    const { logger, lines } = capture();
    const engine = await engineFromSettings({ engine: 'redis', redis_url: url, redis_namespace: namespace }, logger);
    try {
      await engine.publish('c', { data: Buffer.from('x') }, STORE);
      assert.equal((await engine.info('c'))?.messages, 1);
      assert.ok(lines.some((l) => l.event === 'engine_ready' && l.redis !== undefined && !l.redis.includes(':p@')));
    } finally {
      await engine.close();
      await dropNamespace(url, namespace);
    }
  });

  it('a node whose Redis is not there yet starts, says so, and answers ENGINE_UNAVAILABLE', async () => {
    const port = await freePort();
    const { logger, lines } = capture();
    const engine = await engineFromSettings({ engine: 'redis', redis_url: `redis://user:secret@127.0.0.1:${port}/1`, redis_namespace: 'x:' }, logger, 300);
    try {
      const unavailable = lines.find((l) => l.event === 'engine_unavailable');
      assert.equal(unavailable?.redis, `redis://user@127.0.0.1:${port}/1`);
      await assert.rejects(engine.publish('c', { data: Buffer.from('x') }, STORE), (e: unknown) => isPubsubError(e, 'ENGINE_UNAVAILABLE'));
    } finally {
      await engine.close();
    }
  });

  it('redis_command_timeout reaches the engine: a hung (SIGSTOPped) Redis answers publishers 503 within it', async (t) => {
    const server = await startRedisServer(t);
    if (server === undefined) return;
    const { logger } = capture();
    const engine = await engineFromSettings({ engine: 'redis', redis_url: server.url, redis_namespace: 'bounds:', redis_command_timeout: 400, redis_replica_wait: 0 }, logger);
    const gw = await startGatewayWithInternal(SUBSCRIBER_CONFIG, { engine });
    try {
      const first = await request(`${gw.internalUrl}/pub/bounded`, { method: 'POST', body: 'first' });
      await first.body.dump();
      assert.equal(first.statusCode, 202);

      server.pause();
      // Far below the 3000 ms default: only the setting explains an answer this soon.
      await publishRefusedWithin(gw.internalUrl, 'bounded', 400);
    } finally {
      server.resume();
      await gw.close();
      await engine.close();
      await server.stop();
    }
  });
});
