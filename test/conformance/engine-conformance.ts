/**
 * The shared engine conformance suite: every engine must pass it unchanged.
 *
 * @example
 *   engineConformance('memory', (now) => createMemoryEngine({ now, sweepIntervalMs: 0 }));
 *
 * Time is driven through the `now` the factory receives (no sleeps). Engines that cannot use an
 * injected clock for ids (e.g. Redis scripts) must still be given a way to honour it in tests.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ChannelEvent, ChannelStorage, Engine, Message } from '../../src/pubsub/engine.ts';
import { isPubsubError } from '../../src/pubsub/errors.ts';
import { formatMessageId, parseMessageId } from '../../src/pubsub/message-id.ts';
import { channelListingConformance } from './engine-conformance-channels.ts';

export type MakeEngine = (now: () => number) => Engine | Promise<Engine>;

const T0 = 1_795_718_443_000;
const STORE: ChannelStorage = { bufferLength: 10, messageTimeout: 3600, channelTimeout: 0 };

export function engineConformance(name: string, makeEngine: MakeEngine): void {
  describe(`engine conformance: ${name}`, () => {
    let ms = T0;
    let engine: Engine;
    const now = (): number => ms;
    const pub = (ch: string, text: string, storage: ChannelStorage = STORE) =>
      engine.publish(ch, { data: Buffer.from(text) }, storage);
    const ids = (messages: readonly Message[]): string[] => messages.map((m) => formatMessageId(m.id));
    const texts = (messages: readonly Message[]): string[] => messages.map((m) => m.data.toString());

    beforeEach(async () => {
      ms = T0;
      engine = await makeEngine(now);
    });
    afterEach(async () => {
      await engine.close();
    });

    it('assigns <seconds>:<tag> ids, tag 0-based per second, resetting each second', async () => {
      const a = await pub('c', 'a');
      const b = await pub('c', 'b');
      ms += 1000;
      const c = await pub('c', 'c');
      assert.deepEqual([a, b, c].map((r) => formatMessageId(r.message.id)), ['1795718443:0', '1795718443:1', '1795718444:0']);
      assert.equal(a.message.channel, 'c');
      assert.equal(c.channel.messages, 3);
      assert.equal(formatMessageId(c.channel.lastMessageId ?? parseMessageId('0:0')), '1795718444:0');
    });

    it('keeps ids increasing when the clock goes backwards', async () => {
      const a = await pub('c', 'a');
      ms -= 5000;
      const b = await pub('c', 'b');
      assert.equal(formatMessageId(b.message.id), '1795718443:1');
      assert.ok(formatMessageId(a.message.id) < formatMessageId(b.message.id));
    });

    it('stores data, content type, event name and expiry', async () => {
      const r = await engine.publish('c', { data: Buffer.from([0, 1, 2]), contentType: 'application/octet-stream', eventName: 'tick' }, STORE);
      const [m] = (await engine.fetch('c', { kind: 'oldest' })).messages;
      assert.ok(m);
      assert.deepEqual([...m.data], [0, 1, 2]);
      assert.equal(m.contentType, 'application/octet-stream');
      assert.equal(m.eventName, 'tick');
      assert.equal(m.expiresAt, T0 + 3600_000);
      assert.deepEqual(m.id, r.message.id);
      const forever = await pub('d', 'x', { ...STORE, messageTimeout: 0 });
      assert.equal(forever.message.expiresAt, null);
    });

    it('trims the buffer to its length, oldest first, following the last publish', async () => {
      for (const t of ['1', '2', '3', '4']) await pub('c', t, { ...STORE, bufferLength: 3 });
      assert.deepEqual(texts((await engine.fetch('c', { kind: 'oldest' })).messages), ['2', '3', '4']);
      await pub('c', '5', { ...STORE, bufferLength: 1 });
      assert.deepEqual(texts((await engine.fetch('c', { kind: 'oldest' })).messages), ['5']);
      assert.equal((await engine.info('c'))?.messages, 1);
    });

    it('a zero-length buffer stores nothing but still delivers live and assigns ids', async () => {
      const seen: string[] = [];
      await engine.subscribe('c', (e) => { if (e.type === 'message') seen.push(e.message.data.toString()); });
      await engine.addSubscriber('c', { storage: STORE });
      const r = await pub('c', 'x', { ...STORE, bufferLength: 0 });
      assert.deepEqual(seen, ['x']);
      assert.equal(r.channel.messages, 0);
      assert.equal(formatMessageId(r.channel.lastMessageId ?? parseMessageId('0:0')), '1795718443:0');
    });

    it('expires messages oldest first: an old message holds back a newer one with a shorter TTL', async () => {
      await pub('c', 'long', { ...STORE, messageTimeout: 10 });
      await pub('c', 'short', { ...STORE, messageTimeout: 2 });
      ms += 3000;
      assert.deepEqual(texts((await engine.fetch('c', { kind: 'oldest' })).messages), ['long', 'short']);
      ms += 7000;
      assert.deepEqual(texts((await engine.fetch('c', { kind: 'oldest' })).messages), []);
      assert.equal((await engine.stats()).stored, 0);
    });

    it('expires at exactly message_timeout', async () => {
      await pub('c', 'a', { ...STORE, messageTimeout: 5, channelTimeout: 60 });
      ms += 4999;
      assert.equal((await engine.info('c'))?.messages, 1);
      ms += 1;
      assert.equal((await engine.info('c'))?.messages, 0);
    });

    it('fetches from every cursor kind', async () => {
      const r: string[] = [];
      for (const t of ['a', 'b', 'c', 'd']) r.push(formatMessageId((await pub('c', t)).message.id));
      const f = async (cursor: Parameters<Engine['fetch']>[1]) => texts((await engine.fetch('c', cursor)).messages);
      assert.deepEqual(await f({ kind: 'oldest' }), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await f({ kind: 'newest' }), []);
      assert.deepEqual(await f({ kind: 'after', id: parseMessageId(r[1] ?? '') }), ['c', 'd']);
      assert.deepEqual(await f({ kind: 'after', id: parseMessageId(r[3] ?? '') }), []);
      assert.deepEqual(await f({ kind: 'after', id: parseMessageId('1:0') }), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await f({ kind: 'after', id: parseMessageId('1795718442:32767') }), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await f({ kind: 'nth', n: 1 }), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await f({ kind: 'nth', n: 3 }), ['c', 'd']);
      assert.deepEqual(await f({ kind: 'nth', n: 9 }), []);
      assert.deepEqual(await f({ kind: 'nth', n: -1 }), ['d']);
      assert.deepEqual(await f({ kind: 'nth', n: -9 }), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await f({ kind: 'nth', n: 0 }), []);
      assert.deepEqual(await engine.fetch('nope', { kind: 'oldest' }), { messages: [], exists: false });
    });

    it('delivers live messages in order to every listener, and stops after unsubscribe', async () => {
      const a: ChannelEvent[] = [];
      const b: ChannelEvent[] = [];
      const stopA = await engine.subscribe('c', (e) => a.push(e));
      await engine.subscribe('c', (e) => b.push(e));
      const sent: string[] = [];
      for (let i = 0; i < 20; i++) sent.push(formatMessageId((await pub('c', String(i))).message.id));
      await stopA();
      await pub('c', 'after');
      const got = (evs: ChannelEvent[]) => evs.flatMap((e) => (e.type === 'message' ? [formatMessageId(e.message.id)] : []));
      assert.deepEqual(got(a), sent);
      assert.equal(got(b).length, 21);
      assert.deepEqual(got(b).slice(0, 20), sent);
    });

    it('counts subscribers and reports requested / last message id', async () => {
      assert.equal(await engine.info('c'), null);
      const added = await engine.addSubscriber('c', { storage: STORE });
      assert.ok(added.ok);
      assert.deepEqual(added.channel, { messages: 0, requested: 0, subscribers: 1, lastMessageId: null });
      await engine.addSubscriber('c', { storage: STORE });
      ms += 7000;
      const p = await pub('c', 'x');
      assert.equal(p.channel.subscribers, 2);
      assert.equal(p.channel.requested, 7);
      assert.equal(await engine.removeSubscriber('c'), 1);
      assert.equal(await engine.removeSubscriber('c'), 0);
      assert.equal(await engine.removeSubscriber('c'), 0);
      assert.equal((await engine.info('c'))?.subscribers, 0);
      const fresh = await pub('d', 'x');
      assert.equal(fresh.channel.requested, -1);
      assert.equal(fresh.channel.subscribers, 0);
      assert.deepEqual(await engine.stats(), { published: 2, stored: 2, channels: 2, subscribers: 0 });
    });

    it('existing-only subscribers are refused until someone publishes; max subscribers is enforced', async () => {
      assert.deepEqual(await engine.addSubscriber('c', { storage: STORE, existingOnly: true }), { ok: false, reason: 'CHANNEL_NOT_FOUND' });
      assert.equal(await engine.info('c'), null);
      await pub('c', 'x');
      assert.ok((await engine.addSubscriber('c', { storage: STORE, existingOnly: true, maxSubscribers: 1 })).ok);
      assert.deepEqual(await engine.addSubscriber('c', { storage: STORE, maxSubscribers: 1 }), { ok: false, reason: 'TOO_MANY_SUBSCRIBERS' });
    });

    it('delete notifies live listeners, removes messages and answers null for unknown channels', async () => {
      const events: ChannelEvent[] = [];
      await engine.subscribe('c', (e) => events.push(e));
      await engine.addSubscriber('c', { storage: STORE });
      await pub('c', 'x');
      const info = await engine.delete('c');
      assert.equal(info?.messages, 1);
      assert.equal(info?.subscribers, 1);
      assert.deepEqual(events.map((e) => e.type), ['message', 'deleted']);
      assert.equal(await engine.info('c'), null);
      assert.deepEqual(await engine.fetch('c', { kind: 'oldest' }), { messages: [], exists: false });
      assert.equal(await engine.delete('c'), null);
      assert.equal(await engine.delete('never'), null);
    });

    it('an empty channel lingers for channel_timeout, then is gone', async () => {
      await pub('c', 'x', { bufferLength: 10, messageTimeout: 1, channelTimeout: 30 });
      ms += 1000;
      assert.equal((await engine.info('c'))?.messages, 0);
      ms += 29_999;
      assert.notEqual(await engine.info('c'), null);
      ms += 1;
      assert.equal(await engine.info('c'), null);
      assert.equal((await engine.stats()).channels, 0);
    });

    it('a channel with subscribers never times out', async () => {
      await engine.addSubscriber('c', { storage: STORE });
      ms += 86_400_000;
      assert.equal((await engine.info('c'))?.subscribers, 1);
      assert.equal((await engine.info('c'))?.requested, 86_400);
    });

    it('orders publishes across channels by (publishedAt, seq)', async () => {
      const a = await pub('a', '1');
      const b = await pub('b', '2');
      ms += 1;
      const c = await pub('a', '3');
      assert.ok(a.message.seq < b.message.seq && b.message.seq < c.message.seq);
      assert.equal(a.message.publishedAt, T0);
      assert.equal(c.message.publishedAt, T0 + 1);
    });

    it('keeps channels apart', async () => {
      await pub('a', '1');
      await pub('b', '2');
      assert.deepEqual(ids((await engine.fetch('a', { kind: 'oldest' })).messages), ['1795718443:0']);
      assert.deepEqual(texts((await engine.fetch('b', { kind: 'oldest' })).messages), ['2']);
    });

    channelListingConformance(() => engine, (delta) => (ms += delta));

    it('rejects calls after close with ENGINE_CLOSED', async () => {
      await engine.close();
      await assert.rejects(pub('c', 'x'), (e: unknown) => isPubsubError(e, 'ENGINE_CLOSED'));
      engine = await makeEngine(now);
    });
  });
}
