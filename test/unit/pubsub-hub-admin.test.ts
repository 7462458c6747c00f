import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryEngine } from '../../src/pubsub/engines/memory/index.ts';
import { createHub, DEFAULT_SUBSCRIBER_LIMITS, type EndReason, type Hub, type Sink } from '../../src/pubsub/index.ts';
import { compileChannelPolicies } from '../../src/pubsub/policies.ts';

class EndSink implements Sink {
  readonly ended: EndReason[] = [];
  deliver(): boolean {
    return true;
  }
  end(reason: EndReason): void {
    this.ended.push(reason);
  }
}

function setup(): Hub {
  const engine = createMemoryEngine({ sweepIntervalMs: 0 });
  return createHub({ engine, policies: compileChannelPolicies([{ name: 'm', match: 'room:*', events_channel: 'rooms' }]) });
}

const as = (consumer: string) => ({ ...DEFAULT_SUBSCRIBER_LIMITS, consumer });

async function walk(hub: Hub, prefix: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Hub['channels']>> = await hub.channels(prefix, cursor, limit);
    assert.ok(page.channels.length <= limit);
    ids.push(...page.channels.map((c) => c.id));
    cursor = page.next;
  } while (cursor !== null);
  return ids;
}

describe('hub: revocation and channel listing (Admin API)', () => {
  it('revoke ends only the consumer\'s subscriptions, with REVOKED, and releases their counts', async () => {
    const hub = setup();
    const alice = [new EndSink(), new EndSink()];
    const bob = new EndSink();
    const anonymous = new EndSink();
    await hub.subscribe(['a'], { kind: 'newest' }, alice[0] as EndSink, as('alice-id'));
    await hub.subscribe(['a', 'b'], { kind: 'newest' }, alice[1] as EndSink, as('alice-id'));
    await hub.subscribe(['a'], { kind: 'newest' }, bob, as('bob-id'));
    await hub.subscribe(['a'], { kind: 'newest' }, anonymous);
    assert.equal(hub.streamsOf('alice-id'), 2);
    assert.equal((await hub.info('a'))?.subscribers, 4);

    assert.equal(await hub.revoke('alice-id'), 2);
    assert.deepEqual(alice.map((s) => s.ended), [['REVOKED'], ['REVOKED']]);
    assert.deepEqual([bob.ended, anonymous.ended], [[], []]);
    assert.equal(hub.streamsOf('alice-id'), 0);
    assert.equal((await hub.info('a'))?.subscribers, 2, 'counts released when revoke resolves');
    assert.equal(await hub.info('b'), null, 'b had only alice: empty, it is gone');
    assert.equal(await hub.revoke('alice-id'), 0, 'nothing left to revoke');
    assert.equal(await hub.revoke('nobody'), 0);
  });

  it('a closed subscription is no longer counted for its consumer', async () => {
    const hub = setup();
    const sub = await hub.subscribe(['a'], { kind: 'newest' }, new EndSink(), as('carol'));
    assert.equal(hub.streamsOf('carol'), 1);
    await sub.close();
    assert.equal(hub.streamsOf('carol'), 0);
    assert.equal(await hub.revoke('carol'), 0);
  });

  it('channels leaves meta/ channels out unless the prefix starts with meta, without short pages', async () => {
    const hub = setup();
    for (const ch of ['room:1', 'room:2', 'room:3', 'zebra']) await hub.publish(ch, { data: Buffer.from('x') });
    // The events of room:* went to meta/rooms, which sorts between 'm' and 'r'.
    await hub.subscribe(['meta/other'], { kind: 'newest' }, new EndSink());
    assert.deepEqual(await walk(hub, '', 1000), ['room:1', 'room:2', 'room:3', 'zebra']);
    for (const limit of [1, 2, 3]) assert.deepEqual(await walk(hub, '', limit), ['room:1', 'room:2', 'room:3', 'zebra'], `limit ${limit}`);
    const first = await hub.channels('', null, 1);
    assert.deepEqual(first.channels.map((c) => c.id), ['room:1'], 'the meta channels before it are skipped, the page is full');
    assert.deepEqual(await walk(hub, 'meta', 10), ['meta/other', 'meta/rooms']);
    assert.deepEqual(await walk(hub, 'meta/r', 10), ['meta/rooms']);
    assert.deepEqual(await walk(hub, 'room:', 2), ['room:1', 'room:2', 'room:3']);
  });
});
