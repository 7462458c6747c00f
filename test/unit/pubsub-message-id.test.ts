import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isPubsubError } from '../../src/pubsub/errors.ts';
import {
  compareMessageIds, formatMessageId, fromHttpHeaders, LAST_TAG, nextMultiplexedId, NO_TAG, parseMessageId,
  singleId, slotCursor, toHttpHeaders, type MessageId,
} from '../../src/pubsub/message-id.ts';

const badId = (fn: () => unknown): void => assert.throws(fn, (e: unknown) => isPubsubError(e, 'BAD_MESSAGE_ID'));

const single = fc.record({ time: fc.integer({ min: 0, max: 2 ** 33 }), tag: fc.integer({ min: 0, max: 1e6 }) })
  .map(({ time, tag }) => singleId(time, tag));
const multi = fc.integer({ min: 2, max: 255 }).chain((n) => fc.record({
  time: fc.integer({ min: 0, max: 2 ** 33 }),
  tags: fc.array(fc.oneof(fc.constant(NO_TAG), fc.integer({ min: 0, max: 1e6 })), { minLength: n, maxLength: n }),
  active: fc.integer({ min: -1, max: n - 1 }),
})).map(({ time, tags, active }): MessageId => ({ time, tags, active: active >= 0 && tags[active] === NO_TAG ? -1 : active }));

describe('message ids', () => {
  it('parses and formats single ids', () => {
    assert.deepEqual(parseMessageId('1795718443:1'), { time: 1795718443, tags: [1], active: 0 });
    assert.equal(formatMessageId(singleId(1795718443, 0)), '1795718443:0');
  });

  it('parses and formats multiplexed ids as nchan shows them', () => {
    const id = parseMessageId('1795718477:0,[1],-', 3);
    assert.deepEqual(id, { time: 1795718477, tags: [0, 1, NO_TAG], active: 1 });
    assert.equal(formatMessageId(id), '1795718477:0,[1],-');
  });

  it('builds multiplexed ids per nchan (same second merges, new second resets)', () => {
    const seq: [number, MessageId][] = [[0, singleId(100, 0)], [1, singleId(100, 0)], [2, singleId(100, 0)], [0, singleId(100, 1)], [1, singleId(101, 0)]];
    let prev: MessageId | undefined;
    const out = seq.map(([slot, id]) => formatMessageId((prev = nextMultiplexedId(prev, 3, slot, id))));
    assert.deepEqual(out, ['100:[0],-,-', '100:0,[0],-', '100:0,0,[0]', '100:[1],0,0', '101:-,[0],-']);
  });

  it('extracts a slot as nchan does (`-` = end of the previous second)', () => {
    const id = parseMessageId('200:5,-', 2);
    assert.deepEqual(slotCursor(id, 0), singleId(200, 5));
    assert.deepEqual(slotCursor(id, 1), singleId(199, LAST_TAG));
  });

  it('rejects malformed ids with BAD_MESSAGE_ID', () => {
    for (const text of ['', 'abc', '12', ':1', '12:', '12:x', '-1:0', '12:[[1]],2', '12:[1],[2]', '12:-', '12:1.5', '1 2:0', '12:01']) {
      badId(() => parseMessageId(text, text.includes(',') ? undefined : 1));
    }
    badId(() => parseMessageId('12:1,2', 3)); // wrong slot count
    badId(() => parseMessageId('12:0', 2));
    badId(() => parseMessageId(`12:${Array(256).fill('0').join(',')}`)); // 256 slots
    assert.equal(parseMessageId(`12:${Array(255).fill('0').join(',')}`, 255).tags.length, 255);
  });

  it('round-trips the HTTP form', () => {
    const id = parseMessageId('1795718477:[0],-,-', 3);
    const h = toHttpHeaders(id);
    assert.equal(h.etag, '[0],-,-');
    assert.match(h.lastModified, /GMT$/);
    assert.deepEqual(fromHttpHeaders(h.lastModified, h.etag, 3), id);
    assert.deepEqual(fromHttpHeaders(h.lastModified, undefined, 1), singleId(1795718477, 0));
    badId(() => fromHttpHeaders('yesterday', '1'));
  });

  it('parse ∘ format = id (property)', () => {
    fc.assert(fc.property(fc.oneof(single, multi), (id) => {
      assert.deepEqual(parseMessageId(formatMessageId(id), id.tags.length), id);
      const h = toHttpHeaders(id);
      assert.deepEqual(fromHttpHeaders(h.lastModified, h.etag, id.tags.length), id);
    }));
  });

  it('orders single ids by (seconds, tag) (property)', () => {
    fc.assert(fc.property(single, single, (a, b) => {
      const c = compareMessageIds(a, b);
      assert.equal(Math.sign(c), Math.sign(a.time - b.time || (a.tags[0] ?? 0) - (b.tags[0] ?? 0)));
      assert.equal(compareMessageIds(b, a), -c || 0);
    }));
  });
});
