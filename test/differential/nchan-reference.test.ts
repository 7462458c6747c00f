/**
 * What clients observe on real nchan (Debian's libnginx-mod-nchan 1.3.6), scenario by scenario.
 * The scenarios live in ./observe.ts and take a Target, so a sluice-vs-nchan test can run each one
 * against both servers and deep-compare. Where real nchan disagrees with
 * ../shared/reference/nchan-protocol.md, the expectation follows nchan and says so (`DOC:`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireNchan, SMALL_BUFFER } from '../helpers/nchan.ts';
import { SCENARIOS, idShape, type Observation, type ScenarioName, type InfoObservation, type PollObservation } from './observe.ts';

const VARY = 'If-None-Match, If-Modified-Since';
const PLAIN_SHAPE = 'queued messages: #\r\nlast requested: # sec. ago\r\nactive subscribers: #\r\nlast message id: <id>';
const info = (messages: number, requested: -1 | 'n', subscribers: number, lastId = 'T:n') => ({ messages, requested, subscribers, last_message_id: lastId });
const plainInfo = (status: number, messages: number, requested: -1 | 'n', subscribers: number, lastId = 'T:n'): InfoObservation => ({
  status,
  'content-type': 'text/plain',
  info: info(messages, requested, subscribers, lastId),
  shape: PLAIN_SHAPE,
});
const JSON_INFO: InfoObservation = {
  status: 200,
  // DOC agrees: labelled text/json even for application/json.
  'content-type': 'text/json',
  info: info(2, -1, 0),
  shape: '{"messages": #, "requested": #, "subscribers": #, "last_message_id": "<id>" }',
};
const XML_INFO: InfoObservation = {
  status: 200,
  // DOC does not say: application/xml is answered as text/xml; lines end in \r\n.
  'content-type': 'text/xml',
  info: info(2, -1, 0),
  shape: '<?xml version="#.#" encoding="UTF#" ?>\r\n<channel>\r\n  <messages>#</messages>\r\n  <requested>#</requested>\r\n  <subscribers>#</subscribers>\r\n  <last_message_id><id></last_message_id>\r\n</channel>',
};
const YAML_INFO: InfoObservation = {
  status: 200,
  // every YAML Accept is answered as text/yaml; the id is quoted; the document ends with a blank line
  'content-type': 'text/yaml',
  info: info(2, -1, 0),
  shape: '---\r\nmessages: #\r\nrequested: #\r\nsubscribers: #\r\nlast_message_id: "<id>"\r\n\r\n',
};
const poll = (status: number, body: string, contentType?: string, etag = 'n'): PollObservation => ({
  status,
  headers: status === 200 ? { 'content-type': contentType!, etag, 'last-modified': 'http-date', vary: VARY } : { vary: VARY },
  body,
});

const EXPECTED: { [N in ScenarioName]: Observation<N> } = {
  publishStatus: {
    without: plainInfo(202, 1, -1, 0),
    withOne: plainInfo(201, 2, 'n', 1),
    postToSubscriberLocation: 403,
  },
  channelInfo: {
    unknown: { status: 404, body: '' },
    formats: {
      // The text/plain lines are separated by \r\n, with no trailing newline (DOC shows " / ").
      '(none)': plainInfo(200, 2, -1, 0),
      'text/plain': plainInfo(200, 2, -1, 0),
      'application/json': JSON_INFO,
      'text/json': JSON_INFO,
      'application/xml': XML_INFO,
      'text/xml': XML_INFO,
      'text/yaml': YAML_INFO,
      'application/yaml': YAML_INFO,
      'application/x-yaml': YAML_INFO,
    },
  },
  deleteEventSource: {
    // DELETE answers 200 with the info as it was (the subscriber still counted), buffer already emptied.
    delete: plainInfo(200, 0, 'n', 1),
    frames: [{ comments: [': hi'] }, { comments: [':410: 410 Gone'] }],
    streamEnded: true,
    // DOC says DELETE removes the channel; nchan then answers GET with 200, 0 messages,
    // 0 subscribers and a last message id of `0:0` (the grammar, not a real id).
    infoAfter: plainInfo(200, 0, 'n', 0),
    deleteUnknown: 404,
  },
  deleteLongPoll: { deleteStatus: 200, poll: poll(410, '') },
  eventSourceFraming: {
    status: 200,
    // no Etag / Last-Modified / Vary on the stream
    headers: { 'content-type': 'text/event-stream; charset=utf-8' },
    frames: [
      { comments: [': hi'] },
      { event: 'greet', id: 'T:n', data: 'line1\nline2' },
      { id: 'T:n', data: '' },
      // nchan splits data on \n only: "crlf\r" becomes a data line whose \r an SSE parser takes as the line end.
      { id: 'T:n', data: 'crlf\nline' },
    ],
    idsIncreasing: true,
    // `event:` comes before `id:`; an empty message is `data: ` with a trailing space
    raw: ['event: greet\nid: <id>\ndata: line1\ndata: line2\n\n', 'id: <id>\ndata: \n\n', 'id: <id>\ndata: crlf\r\ndata: line\n\n'],
  },
  longPoll: {
    walk: [poll(200, 'one', 'text/x-test'), poll(200, 'two', 'text/x-test'), poll(200, 'three', 'text/x-test')],
    fourth: poll(200, 'four', 'text/x-test'),
    repeatSecond: poll(200, 'two', 'text/x-test'),
  },
  intervalPoll: {
    empty: poll(304, ''),
    first: poll(200, 'hello', 'text/plain'),
    // the 304 repeats the Etag and Last-Modified it was asked about
    nothingNew: { status: 304, headers: { etag: 'n', 'last-modified': 'http-date', vary: VARY }, body: '' },
    // DOC: "any other type gets 403" — on an intervalpoll-only location an EventSource request is
    // answered as an interval-poll (200, the message), not 403.
    eventSourceOnPollOnly: poll(200, 'hello', 'text/plain'),
  },
  resume: {
    all: ['m1', 'm2', 'm3'],
    eventSourceHeader: ['m2', 'm3'],
    eventSourceQuery: ['m2', 'm3'],
    eventSourceQueryRaw: ['m2', 'm3'],
    longPollHeader: 'm2',
    longPollQuery: 'm3',
  },
  malformedIds: {
    // DOC: "malformed ids get 400" — only ids that look like ids do. A value with no `:` at all
    // ("garbage") is ignored and the subscriber starts from the oldest message (200); so is `0:0`.
    lastEventId: { ':0': 400, '-1:0': 400, 'T:0,0': 400, 'T:[0],0': 400, 'T:[[0]]': 400, garbage: 200, '0:0': 200 },
    query: { ':0': 400, 'T:0,0': 400 },
    // On a 3-channel location a wrong slot count is 400, and so is a 3-slot id without a `[k]`
    // marker (`T:0,-,0`). DOC: 256 slots → 400; on this 3-channel location nchan answers 200.
    multiplexed: { 'T:0,0': 400, 'T:0,0,0,0': 400, 'T:[[0]],0,0': 400, 'T:0,-,0': 400, 'T:0×256': 200 },
    ifNoneMatch: { '0,0': 400, '[[0]]': 400 },
    eventSource: 400,
  },
  multiplexed: {
    frames: [
      { comments: [': hi'] },
      { id: 'T:[n],-,-', data: 'to-0' },
      { id: 'T:n,[n],-', data: 'to-1' },
      { id: 'T:n,n,[n]', data: 'to-2' },
      { id: 'T:[n],n,n', data: 'to-0' },
      { comments: [':410: 410 Gone'] },
    ],
    idsIncreasing: true,
    deleteStatus: 200,
    streamEnded: true,
    longPoll: poll(200, 'middle', 'text/plain', '-,[n],-'),
  },
  splitIds: {
    // DOC does not say: a split publish answers with `last message id: 0`, not a message id.
    publish: { status: 202, 'content-type': 'text/plain', info: info(1, -1, 0, 'raw:0'), shape: PLAIN_SHAPE.replace('<id>', '#') },
    messagesPerChannel: [1, 1],
    // the split subscriber gets the message once per channel
    frames: [{ comments: [': hi'] }, { id: 'T:[n],-', data: 'both' }, { id: 'T:n,[n]', data: 'both' }],
  },
  bufferLength: {
    beforeSmall: 5,
    // buffer settings follow the last publishing location: the default-10 buffer shrinks to 3
    afterSmall: info(SMALL_BUFFER.length, -1, 0),
    bodies: ['m7', 'm8', 'm9'],
    // DOC does not say: channel info still counts expired messages until a subscriber touches the
    // channel, so the count is 3 right after publishing and 0 only after the polls.
    infoBeforeExpiry: SMALL_BUFFER.length,
    expiredPoll: 304,
    infoAfterExpiry: 0,
    expiredAfterSeconds: '1-4',
  },
  webSocket: {
    plain: {
      protocol: '',
      frames: [
        { binary: false, text: 'hello' },
        { binary: true, text: 'bin\u0001' },
        { binary: false, text: '' },
      ],
      // DOC: "the close frame carries the HTTP status code and line" — the code is 1001 (going away),
      // the reason is the status line "410 Gone".
      close: { code: 1001, reason: '410 Gone' },
    },
    meta: {
      protocol: 'ws+meta.nchan',
      frames: [
        { binary: false, text: 'id: T:n\ncontent-type: text/plain\n\nhello' },
        // binary also under ws+meta.nchan
        { binary: true, text: 'id: T:n\ncontent-type: application/octet-stream\n\nbin\u0001' },
        { binary: false, text: 'id: T:n\ncontent-type: text/x-empty\n\n' },
      ],
      close: { code: 1001, reason: '410 Gone' },
    },
  },
  rawStream: {
    status: 200,
    // no Content-Type; the separator follows every message; DELETE just ends the response (no 410 marker)
    headers: {},
    body: 'one\ntwo\n',
    streamEnded: true,
  },
};

test('nchan reference observations', async (t) => {
  const nchan = await requireNchan(t);
  if (!nchan) return;
  try {
    for (const name of Object.keys(SCENARIOS) as ScenarioName[]) {
      await t.test(name, async () => {
        const observed = await SCENARIOS[name](nchan.target);
        assert.deepStrictEqual(observed, EXPECTED[name], `${name} on nchan:\n${JSON.stringify(observed, null, 1)}`);
      });
    }
    await t.test('message-id grammar', async () => {
      const res = await fetch(nchan.pubUrl(`grammar-${process.pid}`), { method: 'POST', body: 'x', headers: { accept: 'text/json' } });
      const { last_message_id } = (await res.json()) as { last_message_id: string };
      assert.match(last_message_id, /^\d+:\d+$/);
      assert.equal(idShape('1795718477:[0],-,-'), 'T:[n],-,-');
      assert.equal(idShape('1795718477:0,[12],-'), 'T:n,[n],-');
      assert.equal(idShape('nonsense'), 'raw:nonsense');
    });
  } finally {
    await nchan.stop();
  }
});
