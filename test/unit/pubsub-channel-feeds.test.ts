import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChannelFeeds, type FeedMember } from '../../src/pubsub/channel-feeds.ts';
import type { ChannelEvent, ChannelListener, Engine, Unsubscribe } from '../../src/pubsub/engine.ts';
import { createMemoryEngine } from '../../src/pubsub/engines/memory/index.ts';
import { createHub, type EndReason, type Sink } from '../../src/pubsub/hub.ts';

const STORAGE = { bufferLength: 10, messageTimeout: 0, channelTimeout: 0 };

/** A memory engine that counts the live subscriptions it holds per channel; `failNext` rejects one subscribe. */
function countingEngine() {
  const inner = createMemoryEngine({ sweepIntervalMs: 0 });
  const open = new Map<string, number>();
  let failNext = false;
  const engine: Engine = {
    ...inner,
    publish: inner.publish.bind(inner), fetch: inner.fetch.bind(inner), info: inner.info.bind(inner),
    addSubscriber: inner.addSubscriber.bind(inner), removeSubscriber: inner.removeSubscriber.bind(inner),
    delete: inner.delete.bind(inner), channels: inner.channels.bind(inner), stats: inner.stats.bind(inner), close: inner.close.bind(inner),
    subscribe: async (channel: string, listener: ChannelListener): Promise<Unsubscribe> => {
      await Promise.resolve();
      if (failNext) {
        failNext = false;
        throw new Error('engine down');
      }
      const unsubscribe = await inner.subscribe(channel, listener);
      open.set(channel, (open.get(channel) ?? 0) + 1);
      return async () => {
        open.set(channel, (open.get(channel) ?? 0) - 1);
        await unsubscribe();
      };
    },
  };
  return { engine, open, failNext: () => (failNext = true) };
}

class Member implements FeedMember {
  readonly got: string[] = [];
  constructor(private readonly fail = false) {}
  channelEvent(event: ChannelEvent): void {
    if (this.fail) throw new Error('member failed');
    this.got.push(event.type === 'message' ? event.message.data.toString() : event.type);
  }
}

const publish = (engine: Engine, channel: string, text: string) => engine.publish(channel, { data: Buffer.from(text) }, STORAGE);

describe('channel feeds', () => {
  it('holds one engine subscription per channel, fanned out to every member, until the last one leaves', async () => {
    const { engine, open } = countingEngine();
    const feeds = new ChannelFeeds(engine);
    const a = new Member();
    const b = new Member();
    await Promise.all([feeds.join('c', a), feeds.join('c', b)]);
    assert.equal(open.get('c'), 1);
    await publish(engine, 'c', 'one');
    assert.deepEqual([a.got, b.got], [['one'], ['one']]);
    await feeds.leave('c', a);
    assert.equal(open.get('c'), 1, 'still one member');
    await publish(engine, 'c', 'two');
    assert.deepEqual([a.got, b.got], [['one'], ['one', 'two']]);
    await feeds.leave('c', b);
    assert.equal(open.get('c'), 0);
    // A new member after that subscribes again.
    const c = new Member();
    await feeds.join('c', c);
    assert.equal(open.get('c'), 1);
    await publish(engine, 'c', 'three');
    assert.deepEqual(c.got, ['three']);
  });

  it('still delivers to the other members when one of them throws', async () => {
    const { engine } = countingEngine();
    const feeds = new ChannelFeeds(engine);
    const ok = new Member();
    await feeds.join('c', new Member(true));
    await feeds.join('c', ok);
    await publish(engine, 'c', 'one');
    assert.deepEqual(ok.got, ['one']);
  });

  it('rejects the joins of a feed the engine could not make, and tries again on the next join', async () => {
    const { engine, open, failNext } = countingEngine();
    const feeds = new ChannelFeeds(engine);
    failNext();
    const a = new Member();
    await assert.rejects(feeds.join('c', a), /engine down/);
    await feeds.leave('c', a); // a member of a failed feed: nothing to release
    await feeds.join('c', new Member());
    assert.equal(open.get('c'), 1);
  });

  it('unsubscribes once the feed is live when its last member left while it was being made', async () => {
    const { engine, open } = countingEngine();
    const feeds = new ChannelFeeds(engine);
    const a = new Member();
    const joined = feeds.join('c', a);
    await feeds.leave('c', a);
    await joined;
    assert.equal(open.get('c'), 0);
  });
});

describe('hub over channel feeds', () => {
  class Ends implements Sink {
    readonly ended: EndReason[] = [];
    readonly got: string[] = [];
    deliver(message: { data: Buffer }): boolean {
      this.got.push(message.data.toString());
      return true;
    }
    end(reason: EndReason): void {
      this.ended.push(reason);
    }
  }

  it('shares one engine subscription between single and multiplexed subscriptions, listed channels twice included', async () => {
    const { engine, open } = countingEngine();
    const hub = createHub({ engine });
    const single = new Ends();
    const multi = new Ends();
    const twice = new Ends();
    const subs = [
      await hub.subscribe(['c'], { kind: 'newest' }, single),
      await hub.subscribe(['c', 'd'], { kind: 'newest' }, multi),
      await hub.subscribe(['c', 'c'], { kind: 'newest' }, twice),
    ];
    assert.deepEqual([open.get('c'), open.get('d')], [1, 1]);
    await hub.publish('c', { data: Buffer.from('x') });
    assert.deepEqual([single.got, multi.got, twice.got], [['x'], ['x'], ['x', 'x']]);
    await hub.delete('c');
    assert.deepEqual([single.ended, multi.ended, twice.ended], [['CHANNEL_DELETED'], ['CHANNEL_DELETED'], ['CHANNEL_DELETED']]);
    await Promise.all(subs.map((s) => s.close()));
    assert.deepEqual([open.get('c'), open.get('d')], [0, 0]);
    assert.equal((await hub.counters()).subscribers, 0);
  });
});
