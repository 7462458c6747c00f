import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine, Message } from '../../src/pubsub/engine.ts';
import { createMemoryEngine } from '../../src/pubsub/engines/memory/index.ts';
import { isPubsubError } from '../../src/pubsub/errors.ts';
import { createHub, type EndReason, type Sink } from '../../src/pubsub/hub.ts';
import { formatMessageId, parseMessageId, type MessageId } from '../../src/pubsub/message-id.ts';
import { compileChannelPolicies } from '../../src/pubsub/policies.ts';

const T0 = 1_795_718_477_000;

/** Records deliveries; `accept` decides the backpressure answer. */
class FakeSink implements Sink {
  readonly got: { text: string; id: string }[] = [];
  readonly ended: EndReason[] = [];
  accept = true;
  deliver(message: Message, id: MessageId): boolean {
    this.got.push({ text: message.data.toString(), id: formatMessageId(id) });
    return this.accept;
  }
  end(reason: EndReason): void {
    this.ended.push(reason);
  }
  get texts(): string[] {
    return this.got.map((g) => g.text);
  }
}

function setup(channels: Record<string, unknown>[] = []) {
  let ms = T0;
  const engine = createMemoryEngine({ now: () => ms, sweepIntervalMs: 0 });
  const hub = createHub({ engine, policies: compileChannelPolicies(channels) });
  const pub = (ch: string, text: string) => hub.publish(ch, { data: Buffer.from(text) });
  return { engine, hub, pub, tick: (d: number) => (ms += d) };
}

describe('hub', () => {
  it('replays buffered messages after the cursor, then delivers live ones', async () => {
    const { hub, pub } = setup();
    const first = await pub('c', 'a');
    await pub('c', 'b');
    const sink = new FakeSink();
    const sub = await hub.subscribe(['c'], { kind: 'after', id: first.message.id }, sink);
    await pub('c', 'c');
    assert.deepEqual(sink.got, [{ text: 'b', id: '1795718477:1' }, { text: 'c', id: '1795718477:2' }]);
    assert.equal(formatMessageId(sub.lastId ?? parseMessageId('0:0')), '1795718477:2');
    assert.equal((await hub.info('c'))?.subscribers, 1);
    await sub.close();
    await pub('c', 'd');
    assert.equal(sink.got.length, 2);
    assert.deepEqual(sink.ended, []);
    assert.equal((await hub.info('c'))?.subscribers, 0);
  });

  it('has no gap and no duplicate when publishes race the subscribe', async () => {
    let ms = T0;
    const inner = createMemoryEngine({ now: () => ms, sweepIntervalMs: 0 });
    let n = 0;
    const publishSome = async () => {
      for (let i = 0; i < 3; i++) await inner.publish('c', { data: Buffer.from(String(n++)) }, { bufferLength: 100, messageTimeout: 0, channelTimeout: 0 });
      ms += 400;
    };
    // An engine whose every step lets publishes in: between live-subscribe and fetch, and after.
    const engine: Engine = {
      ...inner,
      publish: inner.publish.bind(inner), info: inner.info.bind(inner), addSubscriber: inner.addSubscriber.bind(inner),
      removeSubscriber: inner.removeSubscriber.bind(inner), delete: inner.delete.bind(inner), stats: inner.stats.bind(inner), close: inner.close.bind(inner),
      subscribe: async (ch, l) => { await publishSome(); const u = await inner.subscribe(ch, l); await publishSome(); return u; },
      fetch: async (ch, c) => { await publishSome(); const r = await inner.fetch(ch, c); await publishSome(); return r; },
    };
    const hub = createHub({ engine, policies: compileChannelPolicies([{ name: 'c', match: 'c', message_buffer_length: 100, message_timeout: 0 }]) });
    await publishSome();
    for (const cursor of [{ kind: 'oldest' }, { kind: 'newest' }, { kind: 'after', id: parseMessageId('1795718477:1') }] as const) {
      const sink = new FakeSink();
      const start = n;
      const pending = hub.subscribe(['c'], cursor, sink);
      await publishSome();
      await pending;
      await publishSome();
      const nums = sink.texts.map(Number);
      assert.deepEqual(nums, [...new Set(nums)].sort((a, b) => a - b), `in order, once (${cursor.kind})`);
      const from = cursor.kind === 'oldest' ? 0 : cursor.kind === 'after' ? 2 : (nums[0] ?? 0);
      assert.deepEqual(nums, Array.from({ length: n - from }, (_, i) => from + i), `no gap (${cursor.kind})`);
      if (cursor.kind === 'newest') assert.ok((nums[0] ?? 0) >= start);
    }
  });

  it('builds multiplexed ids per nchan and merges replay in publish order', async () => {
    const { hub, pub, tick } = setup();
    const sink = new FakeSink();
    await hub.subscribe(['a', 'b', 'c'], { kind: 'newest' }, sink);
    await pub('a', '1');
    await pub('b', '2');
    await pub('c', '3');
    await pub('a', '4');
    tick(1000);
    await pub('b', '5');
    assert.deepEqual(sink.got.map((g) => g.id), [
      '1795718477:[0],-,-', '1795718477:0,[0],-', '1795718477:0,0,[0]', '1795718477:[1],0,0', '1795718478:-,[0],-',
    ]);
    // Resume from the second id: replay is merged across channels in publish order.
    const again = new FakeSink();
    await hub.subscribe(['a', 'b', 'c'], { kind: 'after', id: parseMessageId('1795718477:0,[0],-', 3) }, again);
    assert.deepEqual(again.texts, ['3', '4', '5']);
    assert.deepEqual(again.got.map((g) => g.id), ['1795718477:-,-,[0]', '1795718477:[1],-,0', '1795718478:-,[0],-']);
  });

  it('ends a slow consumer with SLOW_CONSUMER and counts it; resume drains the queue', async () => {
    const { hub, pub } = setup();
    const sink = new FakeSink();
    sink.accept = false;
    const sub = await hub.subscribe(['c'], { kind: 'newest' }, sink, { maxQueuedMessages: 2, maxQueuedBytes: 1000 });
    await pub('c', 'a'); // delivered, sink pushes back
    await pub('c', 'b');
    await pub('c', 'c'); // queued: 2
    assert.deepEqual(sink.texts, ['a']);
    sink.accept = true;
    sub.resume();
    assert.deepEqual(sink.texts, ['a', 'b', 'c']);
    sink.accept = false;
    for (const t of ['d', 'e', 'f', 'g']) await pub('c', t);
    assert.deepEqual(sink.ended, ['SLOW_CONSUMER']);
    assert.equal(sub.ended, true);
    assert.equal((await hub.counters()).slowConsumers, 1);
    await new Promise<void>((r) => setImmediate(r));
    assert.equal((await hub.info('c'))?.subscribers, 0);
  });

  it('bounds the queue by bytes too', async () => {
    const { hub, pub } = setup();
    const sink = new FakeSink();
    sink.accept = false;
    await hub.subscribe(['c'], { kind: 'newest' }, sink, { maxQueuedMessages: 100, maxQueuedBytes: 5 });
    await pub('c', 'x');
    await pub('c', 'abc');
    assert.deepEqual(sink.ended, []);
    await pub('c', 'abc');
    assert.deepEqual(sink.ended, ['SLOW_CONSUMER']);
  });

  it('ends every subscription of a deleted channel, multiplexed ones too (revocation)', async () => {
    const { hub, pub } = setup();
    const shared = new FakeSink();
    const user = new FakeSink();
    await hub.subscribe(['shared', 'user_1'], { kind: 'oldest' }, user);
    await hub.subscribe(['shared'], { kind: 'oldest' }, shared);
    await pub('shared', 'hello');
    const info = await hub.delete('user_1');
    assert.equal(info?.subscribers, 1);
    assert.deepEqual(user.ended, ['CHANNEL_DELETED']);
    assert.deepEqual(shared.ended, []);
    await pub('shared', 'after');
    assert.deepEqual(user.texts, ['hello']);
    assert.deepEqual(shared.texts, ['hello', 'after']);
    await new Promise<void>((r) => setImmediate(r));
    assert.equal((await hub.info('shared'))?.subscribers, 1);
  });

  it('applies policies: subscribe_existing_only, max_subscribers, max_message_size', async () => {
    const { hub, pub } = setup([
      { name: 'p', match: 'priv:*', subscribe_existing_only: true, max_subscribers: 1, max_message_size: 3 },
    ]);
    await assert.rejects(hub.subscribe(['priv:1'], { kind: 'oldest' }, new FakeSink()), (e: unknown) => isPubsubError(e, 'CHANNEL_NOT_FOUND'));
    await assert.rejects(pub('priv:1', 'toolong'), (e: unknown) => isPubsubError(e, 'MESSAGE_TOO_LARGE'));
    await pub('priv:1', 'ok');
    await hub.subscribe(['priv:1'], { kind: 'oldest' }, new FakeSink());
    await assert.rejects(hub.subscribe(['open', 'priv:1'], { kind: 'oldest' }, new FakeSink()), (e: unknown) => isPubsubError(e, 'TOO_MANY_SUBSCRIBERS'));
    assert.equal((await hub.info('open'))?.subscribers ?? 0, 0, 'all or none');
  });

  it('rejects a cursor whose slot count does not match, and 0 or 256 channels', async () => {
    const { hub } = setup();
    await assert.rejects(hub.subscribe(['a', 'b'], { kind: 'after', id: parseMessageId('1:0') }, new FakeSink()), (e: unknown) => isPubsubError(e, 'BAD_MESSAGE_ID'));
    await assert.rejects(hub.subscribe([], { kind: 'oldest' }, new FakeSink()), (e: unknown) => isPubsubError(e, 'TOO_MANY_CHANNELS'));
    const many = Array.from({ length: 256 }, (_, i) => `c${i}`);
    await assert.rejects(hub.subscribe(many, { kind: 'oldest' }, new FakeSink()), (e: unknown) => isPubsubError(e, 'TOO_MANY_CHANNELS'));
  });

  it('exposes counters and ends everything on close', async () => {
    const { hub, pub } = setup();
    const sink = new FakeSink();
    const sub = await hub.subscribe(['a', 'b'], { kind: 'oldest' }, sink);
    await pub('a', '1');
    await pub('z', '2');
    assert.deepEqual(await hub.counters(), { published: 2, stored: 2, channels: 3, subscribers: 2, slowConsumers: 0, delivered: 1, dropped: 0 });
    assert.equal(sub.delivered, 1);
    assert.equal(sub.endReason, undefined, 'still running');
    await hub.close();
    assert.deepEqual(sink.ended, ['HUB_CLOSED']);
    assert.equal(sub.endReason, 'HUB_CLOSED');
  });
});
