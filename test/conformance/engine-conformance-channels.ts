/**
 * The engine conformance suite's part for `Engine.channels` (the Admin API's channel listing).
 * Called by `engineConformance` for every engine; time is driven through `now`, as there.
 *
 * @example
 *   channelListingConformance(() => engine, (ms) => (clock += ms));
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ChannelPage, ChannelStorage, Engine } from '../../src/pubsub/engine.ts';
import { isPubsubError } from '../../src/pubsub/errors.ts';
import { formatMessageId, parseMessageId } from '../../src/pubsub/message-id.ts';

const STORE: ChannelStorage = { bufferLength: 10, messageTimeout: 3600, channelTimeout: 0 };

/** Walks every page of a listing; fails on a page over `limit` or an empty page with a next cursor. */
async function walk(engine: Engine, prefix: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: ChannelPage = await engine.channels(prefix, cursor, limit);
    pages++;
    assert.ok(page.channels.length <= limit, `page of ${page.channels.length} > ${limit}`);
    if (page.next !== null) assert.ok(page.channels.length > 0, 'a page with a next cursor is never empty');
    ids.push(...page.channels.map((c) => c.id));
    cursor = page.next;
    assert.ok(pages < 1000, 'the walk ends');
  } while (cursor !== null);
  return { ids, pages };
}

/** `engine()` is the engine of the running test; `advance(ms)` moves the injected clock. */
export function channelListingConformance(engine: () => Engine, advance: (ms: number) => void): void {
  const pub = (ch: string, storage: ChannelStorage = STORE) => engine().publish(ch, { data: Buffer.from('x') }, storage);

  it('channels: an empty engine lists nothing and has no next page', async () => {
    assert.deepEqual(await engine().channels('', null, 100), { channels: [], next: null });
  });

  it('channels: lists by prefix, ascending by id, with each channel\'s info', async () => {
    for (const ch of ['chat:b', 'news', 'chat:a', 'chat:c/1', 'chatty']) await pub(ch);
    await engine().addSubscriber('chat:a', { storage: STORE });
    advance(2000);
    await pub('chat:a');
    const page = await engine().channels('chat:', null, 100);
    assert.deepEqual(page.channels.map((c) => c.id), ['chat:a', 'chat:b', 'chat:c/1']);
    assert.equal(page.next, null);
    const a = page.channels[0]?.info;
    assert.equal(a?.messages, 2);
    assert.equal(a?.subscribers, 1);
    assert.equal(a?.requested, 2);
    assert.equal(formatMessageId(a?.lastMessageId ?? parseMessageId('0:0')), '1795718445:0');
    assert.deepEqual((await engine().channels('', null, 100)).channels.map((c) => c.id), ['chat:a', 'chat:b', 'chat:c/1', 'chatty', 'news']);
    assert.deepEqual(await engine().channels('nothing-here', null, 100), { channels: [], next: null });
  });

  it('channels: pages of `limit` visit every channel exactly once, the last page has no next', async () => {
    const all = Array.from({ length: 23 }, (_, i) => `c:${String(i).padStart(2, '0')}`);
    for (const ch of [...all].reverse()) await pub(ch);
    for (const limit of [1, 5, 10, 23, 1000]) {
      const { ids, pages } = await walk(engine(), 'c:', limit);
      assert.deepEqual(ids, all, `limit ${limit}`);
      assert.equal(pages, Math.ceil(all.length / limit), `limit ${limit}: no trailing empty page`);
    }
  });

  it('channels: a walk picks up channels created after its cursor and skips deleted or timed-out ones', async () => {
    for (const ch of ['a', 'b', 'c', 'd']) await pub(ch);
    await pub('e', { bufferLength: 10, messageTimeout: 1, channelTimeout: 0 });
    const first = await engine().channels('', null, 2);
    assert.deepEqual(first.channels.map((c) => c.id), ['a', 'b']);
    assert.notEqual(first.next, null);
    await engine().delete('c');
    await pub('bb');
    await pub('f');
    advance(1000); // 'e' expires and, empty, goes away
    const rest: string[] = [];
    let cursor = first.next;
    while (cursor !== null) {
      const page = await engine().channels('', cursor, 2);
      rest.push(...page.channels.map((c) => c.id));
      cursor = page.next;
    }
    assert.deepEqual(rest, ['bb', 'd', 'f']);
  });

  it('channels: a channel with only subscribers (never published) is listed', async () => {
    await engine().addSubscriber('waiting', { storage: STORE });
    const [listed] = (await engine().channels('', null, 10)).channels;
    assert.deepEqual(listed, { id: 'waiting', info: { messages: 0, requested: 0, subscribers: 1, lastMessageId: null } });
  });

  it('channels: rejects after close with ENGINE_CLOSED', async () => {
    await engine().close();
    await assert.rejects(engine().channels('', null, 10), (e: unknown) => isPubsubError(e, 'ENGINE_CLOSED'));
  });
}
