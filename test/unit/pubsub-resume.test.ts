import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { isPubsubError, PubsubError } from '../../src/pubsub/errors.ts';
import { LAST_TAG, NO_TAG } from '../../src/pubsub/message-id.ts';
import { answerError, errorAnswer, firstMessageCursor, resolveCursor } from '../../src/pubsub/transports/resume.ts';
import type { SubscriberExchange } from '../../src/pubsub/transports/types.ts';

function req(headers: Record<string, string> = {}, url = '/sub/ch'): IncomingMessage {
  const r = new IncomingMessage(new Socket());
  r.url = url;
  r.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return r;
}

const T = 1795718443;
const LM = new Date(T * 1000).toUTCString();
const after = (time: number, tags: number[], active = tags.length === 1 ? 0 : -1) => ({ kind: 'after', id: { time, tags, active } });
const badId = (fn: () => unknown): void => assert.throws(fn, (e: unknown) => isPubsubError(e, 'BAD_MESSAGE_ID'));

describe('resolveCursor: sources', () => {
  it('uses the first-message policy without any id', () => {
    assert.deepEqual(resolveCursor(req(), 1, 'oldest'), { kind: 'oldest' });
    assert.deepEqual(resolveCursor(req(), 1, 'newest'), { kind: 'newest' });
    assert.deepEqual(resolveCursor(req(), 1, 0), { kind: 'newest' });
    assert.deepEqual(resolveCursor(req(), 1, 3), { kind: 'nth', n: 3 });
    assert.deepEqual(resolveCursor(req(), 1, -2), { kind: 'nth', n: -2 });
    assert.deepEqual(firstMessageCursor(-1), { kind: 'nth', n: -1 });
  });

  it('reads If-Modified-Since + If-None-Match (quoted and weak Etags too)', () => {
    assert.deepEqual(resolveCursor(req({ 'if-modified-since': LM, 'if-none-match': '2' }), 1, 'newest'), after(T, [2]));
    assert.deepEqual(resolveCursor(req({ 'if-modified-since': LM, 'if-none-match': '"2"' }), 1, 'newest'), after(T, [2]));
    assert.deepEqual(resolveCursor(req({ 'if-modified-since': LM, 'if-none-match': 'W/"2"' }), 1, 'newest'), after(T, [2]));
  });

  it('takes If-Modified-Since alone as <seconds>:0', () => {
    assert.deepEqual(resolveCursor(req({ 'if-modified-since': LM }), 1, 'newest'), after(T, [0]));
  });

  it('reads a multiplexed Etag', () => {
    assert.deepEqual(resolveCursor(req({ 'if-modified-since': LM, 'if-none-match': '-,[3],1' }), 3, 'oldest'),
      { kind: 'after', id: { time: T, tags: [NO_TAG, 3, 1], active: 1 } });
  });

  it('ignores If-None-Match without If-Modified-Since', () => {
    assert.deepEqual(resolveCursor(req({ 'if-none-match': '2' }), 1, 'newest'), { kind: 'newest' });
  });

  it('ignores an If-Modified-Since that is not a date', () => {
    assert.deepEqual(resolveCursor(req({ 'if-modified-since': 'yesterday', 'last-event-id': `${T}:4` }), 1, 'newest'), after(T, [4]));
  });

  it('reads the Last-Event-ID header', () => {
    assert.deepEqual(resolveCursor(req({ 'last-event-id': `${T}:5` }), 1, 'newest'), after(T, [5]));
  });

  it('reads ?last_event_id= url-encoded and raw', () => {
    assert.deepEqual(resolveCursor(req({}, `/sub/ch?last_event_id=${encodeURIComponent(`${T}:6`)}`), 1, 'newest'), after(T, [6]));
    assert.deepEqual(resolveCursor(req({}, `/sub/ch?x=1&last_event_id=${T}:6`), 1, 'newest'), after(T, [6]));
    assert.deepEqual(resolveCursor(req({}, `/sub/a,b?last_event_id=${encodeURIComponent(`${T}:[0],-`)}`), 2, 'newest'),
      { kind: 'after', id: { time: T, tags: [0, NO_TAG], active: 0 } });
    assert.deepEqual(resolveCursor(req({}, `/sub/a,b?last_event_id=${T}:1,[0]`), 2, 'newest'),
      { kind: 'after', id: { time: T, tags: [1, 0], active: 1 } });
  });

  it('treats time 0 (`0:0`) as the oldest id', () => {
    assert.deepEqual(resolveCursor(req({ 'last-event-id': '0:0' }), 1, 'newest'), { kind: 'oldest' });
  });
});

describe('resolveCursor: precedence', () => {
  const lei = `${T}:7`;
  const query = `/sub/ch?last_event_id=${T}:8`;
  it('If-Modified-Since beats Last-Event-ID and the query', () => {
    assert.deepEqual(resolveCursor(req({ 'if-modified-since': LM, 'if-none-match': '1', 'last-event-id': lei }, query), 1, 'newest'), after(T, [1]));
  });
  it('Last-Event-ID beats the query', () => {
    assert.deepEqual(resolveCursor(req({ 'last-event-id': lei }, query), 1, 'newest'), after(T, [7]));
  });
  it('an empty Last-Event-ID falls through to the query', () => {
    assert.deepEqual(resolveCursor(req({ 'last-event-id': '  ' }, query), 1, 'newest'), after(T, [8]));
  });
  it('an ignored (colon-less) Last-Event-ID falls through to the query, then the policy', () => {
    assert.deepEqual(resolveCursor(req({ 'last-event-id': 'garbage' }, query), 1, 'newest'), after(T, [8]));
    assert.deepEqual(resolveCursor(req({ 'last-event-id': 'garbage' }), 1, 'oldest'), { kind: 'oldest' });
    assert.deepEqual(resolveCursor(req({}, '/sub/ch?last_event_id='), 1, 5), { kind: 'nth', n: 5 });
  });
  it('resuming a `-` slot reads up to the end of the previous second (applied by the hub)', () => {
    const c = resolveCursor(req({ 'last-event-id': `${T}:[2],-` }), 2, 'oldest');
    assert.deepEqual(c, { kind: 'after', id: { time: T, tags: [2, NO_TAG], active: 0 } });
    assert.ok(LAST_TAG > 0);
  });
});

describe('resolveCursor: malformed ids (as real nchan)', () => {
  it('400s Last-Event-ID values that look like ids but are not', () => {
    for (const v of [':0', '-1:0', `${T}:0,0`, `${T}:[0],0`, `${T}:[[0]]`, `${T}:x`, `x:0`]) badId(() => resolveCursor(req({ 'last-event-id': v }), 1, 'oldest'));
  });
  it('400s bad ?last_event_id= values', () => {
    for (const v of [':0', `${T}:0,0`]) badId(() => resolveCursor(req({}, `/sub/ch?last_event_id=${encodeURIComponent(v)}`), 1, 'oldest'));
  });
  it('400s multiplexed ids with the wrong slot count, nested brackets or no marker', () => {
    for (const v of [`${T}:0,0`, `${T}:0,0,0,0`, `${T}:[[0]],0,0`, `${T}:0,-,0`, `${T}:[0],[1],0`]) {
      badId(() => resolveCursor(req({ 'last-event-id': v }), 3, 'oldest'));
    }
  });
  it('ignores an id of more than 255 slots (nchan answers 200)', () => {
    const v = `${T}:${Array(256).fill('0').join(',')}`;
    assert.deepEqual(resolveCursor(req({ 'last-event-id': v }), 3, 'oldest'), { kind: 'oldest' });
  });
  it('400s an Etag that does not fit', () => {
    for (const v of ['0,0', '[[0]]', 'abc']) badId(() => resolveCursor(req({ 'if-modified-since': LM, 'if-none-match': v }), 1, 'oldest'));
    badId(() => resolveCursor(req({ 'if-modified-since': LM, 'if-none-match': '0,-,0' }), 3, 'oldest'));
    // no Etag on a multiplexed subscriber: `<seconds>:0` has one slot
    badId(() => resolveCursor(req({ 'if-modified-since': LM }), 3, 'oldest'));
  });
});

describe('errorAnswer / answerError', () => {
  it('maps pubsub codes to nchan statuses', () => {
    assert.deepEqual(errorAnswer(new PubsubError('BAD_MESSAGE_ID', 'bad')), { status: 400, body: { message: 'bad', code: 'BAD_MESSAGE_ID' } });
    assert.equal(errorAnswer(new PubsubError('CHANNEL_NOT_FOUND', 'x')).status, 403);
    assert.equal(errorAnswer(new PubsubError('TOO_MANY_SUBSCRIBERS', 'x')).status, 403);
    assert.equal(errorAnswer(new PubsubError('TOO_MANY_CHANNELS', 'x')).status, 400);
    assert.equal(errorAnswer(new PubsubError('ENGINE_CLOSED', 'x')).status, 503);
    const notFound = Object.assign(new Error('no route'), { status: 404, code: 'NOT_FOUND' });
    assert.deepEqual(errorAnswer(notFound), { status: 404, body: { message: 'no route', code: 'NOT_FOUND' } });
  });
  it('hides unknown errors behind 500', () => {
    assert.deepEqual(errorAnswer(new Error('secret')), { status: 500, body: { message: 'internal error', code: 'INTERNAL' } });
    assert.equal(errorAnswer('weird').status, 500);
  });
  it('writes the head through exchange.writeHead and a JSON body', async () => {
    const r = req();
    const res = new ServerResponse(r);
    const chunks: string[] = [];
    const heads: [number, Record<string, string | string[]>][] = [];
    res.assignSocket(Object.assign(new Socket(), {
      write(chunk: string | Buffer, ...rest: unknown[]) {
        chunks.push(chunk.toString());
        const cb = rest.find((x): x is () => void => typeof x === 'function');
        cb?.();
        return true;
      },
    }) as Socket);
    const exchange = {
      req: r, res,
      writeHead: async (status: number, headers: Record<string, string | string[]>) => { heads.push([status, headers]); res.writeHead(status, headers); },
    } as unknown as SubscriberExchange;
    await answerError(exchange, new PubsubError('BAD_MESSAGE_ID', 'bad id'));
    assert.equal(heads[0]?.[0], 400);
    assert.equal(heads[0]?.[1]['content-type'], 'application/json');
    const raw = chunks.join('');
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.deepEqual(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)), { message: 'bad id', code: 'BAD_MESSAGE_ID' });
  });
});
