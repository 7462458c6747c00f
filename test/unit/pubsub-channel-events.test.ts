import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileChannelPolicies, createHub, createMemoryEngine, isPubsubError, type Sink } from '../../src/pubsub/index.ts';

/** A sink that records message bodies and lets a test await the n-th one. */
function recordingSink() {
  const seen: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const sink: Sink = {
    deliver(message) {
      seen.push(message.data.toString());
      for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve();
      return true;
    },
    end() {},
  };
  const count = (n: number) => new Promise<void>((resolve) => (seen.length >= n ? resolve() : waiters.push({ n, resolve })));
  return { sink, seen, count };
}

test("channel events reach the policy's meta channel, as nchan's nchan_channel_events_channel_id", async () => {
  const hub = createHub({
    engine: createMemoryEngine(),
    policies: compileChannelPolicies([{ name: 'rooms', match: 'room:*', events_channel: 'rooms' }]),
  });
  const events = recordingSink();
  await hub.subscribe(['meta/rooms'], { kind: 'newest' }, events.sink);

  const subscriber = await hub.subscribe(['room:a'], { kind: 'newest' }, recordingSink().sink);
  await hub.publish('room:a', { data: Buffer.from('hi') });
  await hub.publish('other', { data: Buffer.from('not a room') });
  await subscriber.close();
  await hub.delete('room:a');
  await events.count(4);
  assert.deepEqual(events.seen, ['subscriber_enqueue room:a', 'channel_publish room:a', 'subscriber_dequeue room:a', 'channel_delete room:a']);

  await assert.rejects(hub.publish('meta/rooms', { data: Buffer.from('forged') }), (e) => isPubsubError(e, 'META_CHANNEL'));
  await hub.close();
});
