import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHub, createMemoryEngine, isPubsubError, type EndReason, type Sink } from '../../src/pubsub/index.ts';
import { eventsourceFarewell, RECONNECT_RETRY_MS } from '../../src/pubsub/transports/eventsource.ts';
import { WS_CLOSE } from '../../src/pubsub/transports/websocket.ts';

function recordingSink(): Sink & { ended: EndReason[]; delivered: string[] } {
  const ended: EndReason[] = [];
  const delivered: string[] = [];
  return {
    ended,
    delivered,
    deliver: (message) => (delivered.push(message.data.toString()), true),
    end: (reason) => void ended.push(reason),
  };
}

describe('ending subscriptions for reloads and drains', () => {
  test('subscription.end(reason) stops delivery, tells the sink once and releases the subscriber count', async () => {
    const engine = createMemoryEngine();
    const hub = createHub({ engine });
    const sink = recordingSink();
    const sub = await hub.subscribe(['room'], { kind: 'newest' }, sink);
    await hub.publish('room', { data: Buffer.from('before') });
    sub.end('RECHECK_FAILED');
    sub.end('ROUTE_REMOVED');
    await hub.publish('room', { data: Buffer.from('after') });
    assert.deepEqual(sink.delivered, ['before']);
    assert.deepEqual(sink.ended, ['RECHECK_FAILED']);
    assert.equal(sub.ended, true);
    await sub.close();
    assert.equal((await hub.info('room'))?.subscribers, 0);
    await engine.close();
  });

  test('a closed hub refuses new subscriptions with HUB_CLOSED (503), so a drain never holds a stream open', async () => {
    const engine = createMemoryEngine();
    const hub = createHub({ engine });
    const sink = recordingSink();
    await hub.subscribe(['room'], { kind: 'newest' }, sink);
    await hub.close();
    assert.deepEqual(sink.ended, ['HUB_CLOSED']);
    await assert.rejects(hub.subscribe(['room'], { kind: 'newest' }, recordingSink()), (e) => isPubsubError(e, 'HUB_CLOSED'));
    await engine.close();
  });

  test('EventSource farewells: a retry hint on every reconnect reason, an event when the reconnect will be refused', () => {
    assert.equal(eventsourceFarewell('HUB_CLOSED'), `: HUB_CLOSED\nretry: ${RECONNECT_RETRY_MS}\n\n`);
    assert.equal(eventsourceFarewell('ROUTE_CHANGED', 250), ': ROUTE_CHANGED\nretry: 250\n\n');
    assert.equal(eventsourceFarewell('ROUTE_REMOVED', 250), ': ROUTE_REMOVED\nretry: 250\nevent: route_removed\ndata: {"code":"ROUTE_REMOVED"}\n\n');
    assert.equal(eventsourceFarewell('RECHECK_FAILED'), `: RECHECK_FAILED\nretry: ${RECONNECT_RETRY_MS}\nevent: recheck_failed\ndata: {"code":"RECHECK_FAILED"}\n\n`);
    assert.equal(eventsourceFarewell('SLOW_CONSUMER'), ': SLOW_CONSUMER\n\n', 'unchanged: reconnecting at once would not help');
    assert.equal(eventsourceFarewell('CHANNEL_DELETED'), ':410: 410 Gone\n\n', 'unchanged: nchan');
  });

  test('WebSocket close codes: 1012 asks to reconnect, 44xx echo the HTTP answer a reconnect gets', () => {
    assert.deepEqual(WS_CLOSE.HUB_CLOSED, { code: 1012, reason: 'HUB_CLOSED' });
    assert.deepEqual(WS_CLOSE.ROUTE_CHANGED, { code: 1012, reason: 'ROUTE_CHANGED' });
    assert.deepEqual(WS_CLOSE.ROUTE_REMOVED, { code: 4404, reason: 'ROUTE_REMOVED' });
    assert.deepEqual(WS_CLOSE.RECHECK_FAILED, { code: 4403, reason: 'RECHECK_FAILED' });
  });
});
