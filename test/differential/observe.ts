/**
 * What a pub/sub client observes, as plain JSON data, so that two servers can be compared.
 *
 * Every scenario in `SCENARIOS` takes a `Target` (publisher and subscriber base URLs plus path
 * builders, because nchan and Sluice may put publisher and subscribers on different listeners and
 * paths) and returns a normalized observation: statuses, the headers that matter (Content-Type,
 * Etag, Last-Modified, Vary), SSE frames, message ids reduced to their grammar (`T:n`,
 * `T:[n],-,-`, …), long-poll walks, channel info with volatile numbers normalized. Nothing in an
 * observation depends on the clock, random channel ids or which server produced it, so:
 *
 *   - `nchan-reference.test.ts` runs each scenario against real nchan and asserts the observation;
 *   - a `sluice-vs-nchan` test runs each scenario against both targets and `deepStrictEqual`s
 *     the two observations.
 *
 * Scenarios use fresh channel ids and await events (a frame, a response, a subscriber count in
 * channel info) instead of sleeping.
 */
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export interface PathBuilders {
  /** publisher location (`nchan_publisher`, channel id from the path) */
  pub(id: string): string;
  /** publisher location with a small buffer length and message timeout */
  pubSmall(id: string): string;
  /** publisher location whose one id is split into several channels */
  pubSplit(ids: readonly string[]): string;
  /** subscriber with websocket, eventsource, longpoll, chunked, multipart-mixed */
  sub(id: string): string;
  /** interval-poll-only subscriber */
  poll(id: string): string;
  /** http-raw-stream subscriber */
  raw(id: string): string;
  /** multiplexed subscriber over three channels */
  multi(ids: readonly [string, string, string]): string;
  /** subscriber whose one id is split into several channels */
  split(ids: readonly string[]): string;
}

export interface Target {
  readonly name: string;
  /** e.g. `http://127.0.0.1:8081` (the publisher may listen apart from subscribers) */
  readonly pubBase: string;
  readonly subBase: string;
  readonly paths: PathBuilders;
}

export type Headers = Record<string, string | string[] | undefined>;

// ---------------------------------------------------------------------------------------------
// Normalization

/** The grammar of a message id: `T:n` single, `T:[n],n,-` multiplexed; anything else `raw:<id>`. */
export function idShape(id: string): string {
  if (/^\d+:\d+$/.test(id)) return 'T:n';
  const multi = /^\d+:((?:\[\d+\]|\d+|-)(?:,(?:\[\d+\]|\d+|-))+)$/.exec(id);
  if (multi) return `T:${tagShape(multi[1]!)}`;
  return `raw:${id}`;
}

/** `0` → `n`, `[0],-,3` → `[n],-,n` (Etag form). */
export function tagShape(tag: string): string {
  return tag.replace(/\d+/g, 'n');
}

export interface ParsedId {
  readonly time: number;
  /** one slot per channel; null for `-` */
  readonly tags: (number | null)[];
  /** index of the `[k]` slot, -1 when single or none */
  readonly active: number;
}

export function parseId(id: string): ParsedId | undefined {
  const m = /^(\d+):(.+)$/.exec(id);
  if (!m) return undefined;
  let active = -1;
  const tags: (number | null)[] = [];
  for (const [i, slot] of m[2]!.split(',').entries()) {
    const s = /^(\[)?(\d+|-)\]?$/.exec(slot);
    if (!s) return undefined;
    if (s[1]) active = i;
    tags.push(s[2] === '-' ? null : Number(s[2]));
  }
  return { time: Number(m[1]), tags, active };
}

/** True when every id is later than the previous one (time, then the tags). */
export function idsIncreasing(ids: readonly string[]): boolean {
  const parsed = ids.map(parseId);
  return parsed.every((p, i) => {
    if (!p) return false;
    if (i === 0) return true;
    const q = parsed[i - 1]!;
    if (p.time !== q.time) return p.time > q.time;
    const sum = (x: ParsedId) => x.tags.reduce<number>((a, b) => a + (b ?? -1), 0);
    return sum(p) > sum(q);
  });
}

export interface PickedHeaders {
  'content-type'?: string;
  etag?: string;
  'last-modified'?: string;
  vary?: string;
}

/** Content-Type and Vary as sent; Etag as its shape; Last-Modified as `http-date` when it is one. */
export function pickHeaders(headers: Headers): PickedHeaders {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const out: PickedHeaders = {};
  const ct = one('content-type');
  if (ct !== undefined) out['content-type'] = ct;
  const etag = one('etag');
  if (etag !== undefined) out.etag = tagShape(etag);
  const lm = one('last-modified');
  if (lm !== undefined) out['last-modified'] = /GMT$/.test(lm) && !Number.isNaN(Date.parse(lm)) ? 'http-date' : `raw:${lm}`;
  const vary = one('vary');
  if (vary !== undefined) out.vary = vary;
  return out;
}

export interface ChannelInfo {
  messages: number;
  /** -1 = never requested, otherwise `n` (seconds ago vary) */
  requested: -1 | 'n';
  subscribers: number;
  last_message_id: string;
}

export interface InfoObservation {
  status: number;
  'content-type'?: string;
  info?: ChannelInfo;
  /** the body with numbers → `#` and the message id → `<id>` (key order, spacing, framing) */
  shape?: string;
}

const INFO_PATTERNS: Record<string, RegExp[]> = {
  messages: [/queued messages: (-?\d+)/, /"messages": ?(-?\d+)/, /<messages>(-?\d+)</, /^messages: (-?\d+)/m],
  requested: [/last requested: (-?\d+)/, /"requested": ?(-?\d+)/, /<requested>(-?\d+)</, /^requested: (-?\d+)/m],
  subscribers: [/active subscribers: (-?\d+)/, /"subscribers": ?(-?\d+)/, /<subscribers>(-?\d+)</, /^subscribers: (-?\d+)/m],
  last_message_id: [/last message id: (\S*)/, /"last_message_id": ?"([^"]*)"/, /<last_message_id>([^<]*)</, /^last_message_id: "?([^"\n]*)"?/m],
};

/** Channel info in any of the four formats → the four fields, normalized. */
export function parseInfo(body: string): { info: ChannelInfo; shape: string } | undefined {
  const field = (name: string) => {
    for (const re of INFO_PATTERNS[name]!) {
      const m = re.exec(body);
      if (m) return m[1]!;
    }
    return undefined;
  };
  const messages = field('messages');
  const requested = field('requested');
  const subscribers = field('subscribers');
  const id = field('last_message_id');
  if (messages === undefined || requested === undefined || subscribers === undefined || id === undefined) return undefined;
  const shape = (id.includes(':') ? body.split(id).join('<id>') : body).replace(/-?\d+/g, '#');
  return {
    info: { messages: Number(messages), requested: requested === '-1' ? -1 : 'n', subscribers: Number(subscribers), last_message_id: id === '' ? '' : idShape(id) },
    shape,
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpResult {
  status: number;
  headers: Headers;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** One request on its own connection (no keep-alive pooling between scenarios). */
export function http(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: no answer`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A long-lived response read as it arrives. */
export interface Stream {
  readonly status: number;
  readonly headers: Headers;
  /** everything received so far */
  text(): string;
  /** resolves once `predicate(text)` holds (or the stream ended; then with whatever came) */
  until(predicate: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  /** resolves when the server closed the response */
  readonly ended: Promise<string>;
  close(): void;
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = httpRequest(url, { headers, agent: false }, (res: IncomingMessage) => {
      let text = '';
      const waiters = new Set<() => void>();
      const ended = new Promise<string>((done) => {
        const finish = () => {
          done(text);
          for (const w of waiters) w();
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      });
      let isEnded = false;
      void ended.then(() => (isEnded = true));
      res.on('data', (c: Buffer) => {
        text += c.toString();
        for (const w of waiters) w();
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        ended,
        until: (predicate, timeoutMs = 5000) =>
          new Promise((ok, fail) => {
            const check = () => {
              if (predicate(text) || isEnded) {
                waiters.delete(check);
                clearTimeout(timer);
                ok(text);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`${url}: timed out waiting; got ${JSON.stringify(text)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${url}: no response`)));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Publisher side

export interface PublishOptions {
  contentType?: string;
  event?: string;
  method?: 'POST' | 'PUT';
  accept?: string;
}

export function publishTo(url: string, body: string, opts: PublishOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'text/plain' };
  if (opts.event !== undefined) headers['x-eventsource-event'] = opts.event;
  if (opts.accept !== undefined) headers.accept = opts.accept;
  return http(url, { method: opts.method ?? 'POST', headers, body });
}

export function publish(target: Target, id: string, body: string, opts: PublishOptions = {}): Promise<HttpResult> {
  return publishTo(target.pubBase + target.paths.pub(id), body, opts);
}

export async function info(target: Target, id: string, accept?: string): Promise<InfoObservation> {
  const res = await http(target.pubBase + target.paths.pub(id), accept ? { headers: { accept } } : {});
  return infoObservation(res);
}

export function infoObservation(res: HttpResult): InfoObservation {
  const out: InfoObservation = { status: res.status };
  const ct = res.headers['content-type'];
  if (typeof ct === 'string') out['content-type'] = ct;
  const parsed = parseInfo(res.body);
  if (parsed) {
    out.info = parsed.info;
    out.shape = parsed.shape;
  }
  return out;
}

/** Resolves once channel info reports `count` subscribers (the event a publish with subscribers needs). */
export async function waitForSubscribers(target: Target, id: string, count: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await http(target.pubBase + target.paths.pub(id), { headers: { accept: 'text/json' } });
    const parsed = parseInfo(res.body);
    if (parsed && parsed.info.subscribers === count) return;
    if (Date.now() > deadline) throw new Error(`${target.name}: channel ${id} never had ${count} subscribers (last: ${res.status} ${res.body})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const channel = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// EventSource

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  /** comment lines as sent, e.g. `: hi`, `:410: 410 Gone` */
  comments?: string[];
}

/** Parses complete SSE frames (blank-line separated); an unfinished trailing frame is left out. */
export function parseSse(text: string): SseFrame[] {
  const frames: SseFrame[] = [];
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n');
  blocks.pop(); // unfinished (or empty after the final blank line)
  for (const block of blocks) {
    const frame: SseFrame = {};
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) (frame.comments ??= []).push(line);
      else {
        const colon = line.indexOf(':');
        const name = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (name === 'data') data.push(value);
        else if (name === 'id') frame.id = value;
        else if (name === 'event') frame.event = value;
      }
    }
    if (data.length) frame.data = data.join('\n');
    frames.push(frame);
  }
  return frames;
}

/** Frames with ids replaced by their shape. */
export function normalizeFrames(frames: readonly SseFrame[]): SseFrame[] {
  return frames.map((f) => (f.id === undefined ? { ...f } : { ...f, id: idShape(f.id) }));
}

export interface EventSourceClient {
  readonly stream: Stream;
  frames(): SseFrame[];
  /** resolves with all frames once `count` frames carrying data (or a comment matching `/^:\d{3}/`) arrived */
  waitFrames(count: number, timeoutMs?: number): Promise<SseFrame[]>;
  close(): void;
}

export async function openEventSource(url: string, headers: Record<string, string> = {}): Promise<EventSourceClient> {
  const stream = await openStream(url, { accept: 'text/event-stream', ...headers });
  const frames = () => parseSse(stream.text());
  return {
    stream,
    frames,
    waitFrames: async (count, timeoutMs) => {
      await stream.until((t) => parseSse(t).length >= count, timeoutMs);
      return frames();
    },
    close: () => stream.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Long-poll

export interface PollObservation {
  status: number;
  headers: PickedHeaders;
  body: string;
}

export const pollObservation = (res: HttpResult): PollObservation => ({ status: res.status, headers: pickHeaders(res.headers), body: res.body });

/** Follow-up headers for the next long-poll after `res`. */
export function nextPollHeaders(res: HttpResult): Record<string, string> {
  const out: Record<string, string> = {};
  const lm = res.headers['last-modified'];
  const etag = res.headers.etag;
  if (typeof lm === 'string') out['if-modified-since'] = lm;
  if (typeof etag === 'string') out['if-none-match'] = etag;
  return out;
}

/** `steps` long-polls, each with the previous answer's Last-Modified/Etag. */
export async function longPollWalk(url: string, steps: number, first: Record<string, string> = {}): Promise<{ results: HttpResult[]; observations: PollObservation[] }> {
  const results: HttpResult[] = [];
  let headers = first;
  for (let i = 0; i < steps; i++) {
    const res = await http(url, { headers });
    results.push(res);
    headers = nextPollHeaders(res);
  }
  return { results, observations: results.map(pollObservation) };
}

// ---------------------------------------------------------------------------------------------
// WebSocket

export interface WsFrame {
  binary: boolean;
  text: string;
}

export interface WsClient {
  readonly socket: WebSocket;
  readonly protocol: string;
  readonly frames: WsFrame[];
  waitFrames(count: number, timeoutMs?: number): Promise<WsFrame[]>;
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export function openWebSocket(url: string, protocols: string[] = []): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), protocols);
    const frames: WsFrame[] = [];
    const waiters = new Set<() => void>();
    let isClosed = false;
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      socket.on('close', (code, reason) => {
        isClosed = true;
        done({ code, reason: reason.toString() });
        for (const w of waiters) w();
      }),
    );
    socket.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      frames.push({ binary: isBinary, text: buf.toString() });
      for (const w of waiters) w();
    });
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        socket,
        protocol: socket.protocol,
        frames,
        closed,
        close: () => socket.terminate(),
        waitFrames: (count, timeoutMs = 5000) =>
          new Promise((ok, fail) => {
            const check = () => {
              if (frames.length >= count || isClosed) {
                waiters.delete(check);
                clearTimeout(timer);
                ok(frames);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`${url}: ${frames.length} of ${count} frames`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
      }),
    );
  });
}

/** `id: <id>\ncontent-type: <ct>\n\n<data>` with the id replaced by its shape. */
export function normalizeMetaFrame(text: string): string {
  return text.replace(/^id: ([^\n]*)/, (_, id: string) => `id: ${idShape(id)}`);
}

// ---------------------------------------------------------------------------------------------
// Scenarios: each performs one publish/subscribe story against a target and returns what clients saw.

const sub = (t: Target, path: string) => t.subBase + path;
const ended = (s: Stream, timeoutMs = 5000) =>
  Promise.race([s.ended.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]);

export const INFO_ACCEPTS = ['', 'text/plain', 'application/json', 'text/json', 'application/xml', 'text/xml', 'text/yaml', 'application/yaml', 'application/x-yaml'] as const;

export const SCENARIOS = {
  /** 202 without subscribers, 201 with one; the publish answer is channel info. */
  async publishStatus(t: Target) {
    const id = channel('pubstatus');
    const without = infoObservation(await publish(t, id, 'first'));
    const es = await openEventSource(sub(t, t.paths.sub(id)));
    await es.waitFrames(1);
    const withOne = infoObservation(await publish(t, id, 'second', { method: 'PUT' }));
    es.close();
    const postToSubscriberLocation = (await http(sub(t, t.paths.sub(id)), { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status;
    return { without, withOne, postToSubscriberLocation };
  },

  /** GET channel info: 404 unknown, 200 known, in each Accept format. */
  async channelInfo(t: Target) {
    const id = channel('info');
    const unknown = await http(t.pubBase + t.paths.pub(id));
    await publish(t, id, 'a');
    await publish(t, id, 'b');
    const formats: Record<string, InfoObservation> = {};
    for (const accept of INFO_ACCEPTS) formats[accept || '(none)'] = await info(t, id, accept || undefined);
    return { unknown: { status: unknown.status, body: unknown.body }, formats };
  },

  /** DELETE with an EventSource subscriber: the answer, then `:410` and the end of the stream. */
  async deleteEventSource(t: Target) {
    const id = channel('del-es');
    const es = await openEventSource(sub(t, t.paths.sub(id)));
    await es.waitFrames(1);
    const del = infoObservation(await http(t.pubBase + t.paths.pub(id), { method: 'DELETE' }));
    const closed = await ended(es.stream);
    const after = infoObservation(await http(t.pubBase + t.paths.pub(id)));
    const unknown = await http(t.pubBase + t.paths.pub(channel('del-none')), { method: 'DELETE' });
    return { delete: del, frames: normalizeFrames(es.frames()), streamEnded: closed, infoAfter: after, deleteUnknown: unknown.status };
  },

  /** DELETE with a waiting long-poll subscriber. */
  async deleteLongPoll(t: Target) {
    const id = channel('del-lp');
    const waiting = http(sub(t, t.paths.sub(id)));
    await waitForSubscribers(t, id, 1);
    const del = await http(t.pubBase + t.paths.pub(id), { method: 'DELETE' });
    return { deleteStatus: del.status, poll: pollObservation(await waiting) };
  },

  /** EventSource framing: `: hi`, event before id, multi-line and empty data. */
  async eventSourceFraming(t: Target) {
    const id = channel('es');
    const es = await openEventSource(sub(t, t.paths.sub(id)));
    await es.waitFrames(1);
    await publish(t, id, 'line1\nline2', { event: 'greet' });
    await publish(t, id, '');
    await publish(t, id, 'crlf\r\nline', { contentType: 'application/json' });
    const frames = await es.waitFrames(4);
    es.close();
    const ids = frames.flatMap((f) => (f.id === undefined ? [] : [f.id]));
    return {
      status: es.stream.status,
      headers: pickHeaders(es.stream.headers),
      frames: normalizeFrames(frames),
      idsIncreasing: idsIncreasing(ids),
      // the raw text of the message frames (line order and spacing)
      raw: es.stream.text().split(/(?<=\n\n)/).slice(1, 4).map((block) => block.replace(/^id: .*$/m, 'id: <id>')),
    };
  },

  /** Long-poll walk with If-Modified-Since / If-None-Match over 3 buffered messages, then a wait for the 4th. */
  async longPoll(t: Target) {
    const id = channel('lp');
    for (const body of ['one', 'two', 'three']) await publish(t, id, body, { contentType: 'text/x-test' });
    const url = sub(t, t.paths.sub(id));
    const walk = await longPollWalk(url, 3);
    const waiting = http(url, { headers: nextPollHeaders(walk.results[2]!) });
    await waitForSubscribers(t, id, 1);
    await publish(t, id, 'four', { contentType: 'text/x-test' });
    const fourth = await waiting;
    const again = await http(url, { headers: nextPollHeaders(walk.results[0]!) });
    return { walk: walk.observations, fourth: pollObservation(fourth), repeatSecond: pollObservation(again) };
  },

  /** Interval-poll: 304 at once when nothing is new. */
  async intervalPoll(t: Target) {
    const id = channel('ip');
    const url = sub(t, t.paths.poll(id));
    const empty = await http(url);
    await publish(t, id, 'hello');
    const first = await http(url);
    const none = await http(url, { headers: nextPollHeaders(first) });
    const eventSource = await http(url, { headers: { accept: 'text/event-stream' }, timeoutMs: 2000 });
    return { empty: pollObservation(empty), first: pollObservation(first), nothingNew: pollObservation(none), eventSourceOnPollOnly: pollObservation(eventSource) };
  },

  /** Resume from Last-Event-ID and from ?last_event_id= (EventSource and long-poll). */
  async resume(t: Target) {
    const id = channel('resume');
    for (const body of ['m1', 'm2', 'm3']) await publish(t, id, body);
    const url = sub(t, t.paths.sub(id));
    const all = await openEventSource(url);
    const frames = await all.waitFrames(4);
    all.close();
    const firstId = frames[1]!.id!;
    const data = (fs: SseFrame[]) => fs.flatMap((f) => (f.data === undefined ? [] : [f.data]));
    const byHeader = await openEventSource(url, { 'last-event-id': firstId });
    const h = data(await byHeader.waitFrames(3));
    byHeader.close();
    const byQuery = await openEventSource(`${url}?last_event_id=${encodeURIComponent(firstId)}`);
    const q = data(await byQuery.waitFrames(3));
    byQuery.close();
    const byQueryRaw = await openEventSource(`${url}?last_event_id=${firstId}`);
    const qr = data(await byQueryRaw.waitFrames(3));
    byQueryRaw.close();
    const lp = await http(url, { headers: { 'last-event-id': firstId } });
    const lpq = await http(`${url}?last_event_id=${encodeURIComponent(frames[2]!.id!)}`);
    return { all: data(frames), eventSourceHeader: h, eventSourceQuery: q, eventSourceQueryRaw: qr, longPollHeader: lp.body, longPollQuery: lpq.body };
  },

  /** Malformed message ids. Only ids that nchan answers at once are listed (a valid future id would wait). */
  async malformedIds(t: Target) {
    const id = channel('badid');
    await publish(t, id, 'only');
    const now = Math.floor(Date.now() / 1000);
    const single = sub(t, t.paths.sub(id));
    const multi = sub(t, t.paths.multi([id, channel('badid-b'), channel('badid-c')]));
    const status = async (url: string, headers: Record<string, string>) => (await http(url, { headers, timeoutMs: 3000 })).status;
    const lastEventId: Record<string, number> = {};
    for (const v of [':0', '-1:0', `${now}:0,0`, `${now}:[0],0`, `${now}:[[0]]`, 'garbage', '0:0']) lastEventId[v.replace(String(now), 'T')] = await status(single, { 'last-event-id': v });
    const query: Record<string, number> = {};
    for (const v of [':0', `${now}:0,0`]) query[v.replace(String(now), 'T')] = await status(`${single}?last_event_id=${encodeURIComponent(v)}`, {});
    const multiplexed: Record<string, number> = {};
    for (const v of [`${now}:0,0`, `${now}:0,0,0,0`, `${now}:[[0]],0,0`, `${now}:0,-,0`, `${now}:${Array(256).fill('0').join(',')}`]) {
      multiplexed[v.replace(String(now), 'T').replace(/(0,){255}0/, '0×256')] = await status(multi, { 'last-event-id': v });
    }
    const lm = new Date(now * 1000).toUTCString();
    const ifNoneMatch: Record<string, number> = {};
    for (const v of ['0,0', '[[0]]']) ifNoneMatch[v] = await status(single, { 'if-modified-since': lm, 'if-none-match': v });
    const es = await http(single, { headers: { accept: 'text/event-stream', 'last-event-id': ':0' }, timeoutMs: 3000 });
    return { lastEventId, query, multiplexed, ifNoneMatch, eventSource: es.status };
  },

  /** Multiplexed subscriber over three channels: `[k]` marks the channel of each message; deleting one ends the stream. */
  async multiplexed(t: Target) {
    const ids = [channel('mx-a'), channel('mx-b'), channel('mx-c')] as const;
    const es = await openEventSource(sub(t, t.paths.multi(ids)));
    await es.waitFrames(1);
    // A message from a new second resets the other slots to `-` (nchan's rule), so the four
    // publishes must fall in one second for the ids to have a fixed shape.
    await withinOneSecond();
    for (const i of [0, 1, 2, 0]) await publish(t, ids[i]!, `to-${i}`);
    const frames = await es.waitFrames(5);
    const rawIds = frames.flatMap((f) => (f.id === undefined ? [] : [f.id]));
    const del = await http(t.pubBase + t.paths.pub(ids[1]), { method: 'DELETE' });
    const closed = await ended(es.stream);
    const lpIds = [channel('mxlp-a'), channel('mxlp-b'), channel('mxlp-c')] as const;
    await publish(t, lpIds[1], 'middle');
    const lp = await http(sub(t, t.paths.multi(lpIds)));
    return {
      frames: normalizeFrames(es.frames()),
      idsIncreasing: idsIncreasing(rawIds),
      deleteStatus: del.status,
      streamEnded: closed,
      longPoll: pollObservation(lp),
    };
  },

  /** Split-delimiter ids: one publish reaches every channel; one subscriber reads several. */
  async splitIds(t: Target) {
    const ids = [channel('sp-a'), channel('sp-b')];
    const pub = infoObservation(await publishTo(t.pubBase + t.paths.pubSplit(ids), 'both'));
    const counts = [];
    for (const id of ids) counts.push((await info(t, id, 'text/json')).info?.messages);
    const es = await openEventSource(sub(t, t.paths.split(ids)));
    const frames = await es.waitFrames(3);
    es.close();
    return { publish: pub, messagesPerChannel: counts, frames: normalizeFrames(frames) };
  },

  /** Buffer length trimming (oldest first) and message timeout on the small-buffer location. */
  async bufferLength(t: Target) {
    const id = channel('buf');
    for (let i = 0; i < 5; i++) await publish(t, id, `m${i}`);
    const beforeSmall = (await info(t, id, 'text/json')).info?.messages;
    for (let i = 5; i < 10; i++) await publishTo(t.pubBase + t.paths.pubSmall(id), `m${i}`);
    const afterSmall = (await info(t, id, 'text/json')).info;
    const walk = await longPollWalk(sub(t, t.paths.sub(id)), 3);
    // message timeout: no event announces expiry, so interval-poll (answers at once) until nothing is left
    const started = Date.now();
    const infoBeforeExpiry = (await info(t, id, 'text/json')).info?.messages;
    let poll = await http(sub(t, t.paths.poll(id)));
    while (poll.status !== 304 && Date.now() - started < 8000) {
      await new Promise((r) => setTimeout(r, 100));
      poll = await http(sub(t, t.paths.poll(id)));
    }
    const seconds = (Date.now() - started) / 1000;
    return {
      beforeSmall,
      afterSmall,
      bodies: walk.results.map((r) => r.body),
      infoBeforeExpiry,
      expiredPoll: poll.status,
      infoAfterExpiry: (await info(t, id, 'text/json')).info?.messages,
      expiredAfterSeconds: seconds < 1 ? '<1' : seconds <= 4 ? '1-4' : '>4',
    };
  },

  /** WebSocket: text frames, binary for application/octet-stream, close on DELETE; the ws+meta.nchan format. */
  async webSocket(t: Target) {
    const run = async (protocols: string[]) => {
      const id = channel('ws');
      const ws = await openWebSocket(sub(t, t.paths.sub(id)), protocols);
      await waitForSubscribers(t, id, 1);
      await publish(t, id, 'hello');
      await publish(t, id, 'bin\u0001', { contentType: 'application/octet-stream' });
      await publish(t, id, '', { contentType: 'text/x-empty', event: 'ignored' });
      await ws.waitFrames(3);
      await http(t.pubBase + t.paths.pub(id), { method: 'DELETE' });
      const close = await ws.closed;
      return { protocol: ws.protocol, frames: ws.frames.map((f) => ({ ...f, text: normalizeMetaFrame(f.text) })), close };
    };
    return { plain: await run([]), meta: await run(['ws+meta.nchan']) };
  },

  /** http-raw-stream: messages appended with the separator; the response ends on DELETE. */
  async rawStream(t: Target) {
    const id = channel('raw');
    const stream = await openStream(sub(t, t.paths.raw(id)));
    await waitForSubscribers(t, id, 1);
    await publish(t, id, 'one');
    await publish(t, id, 'two');
    await stream.until((s) => s.includes('two'));
    await http(t.pubBase + t.paths.pub(id), { method: 'DELETE' });
    const closed = await ended(stream);
    return { status: stream.status, headers: pickHeaders(stream.headers), body: stream.text(), streamEnded: closed };
  },
} satisfies Record<string, (t: Target) => Promise<unknown>>;

export type ScenarioName = keyof typeof SCENARIOS;
export type Observation<N extends ScenarioName> = Awaited<ReturnType<(typeof SCENARIOS)[N]>>;

/**
 * Waits for the start of the next second when less than 600 ms of this one are left: the
 * clock, not an event, decides the multiplexed id's shape (at most one wait of < 0.4 s).
 */
async function withinOneSecond(): Promise<void> {
  const left = 1000 - (Date.now() % 1000);
  if (left < 600) await new Promise((resolve) => setTimeout(resolve, left + 5));
}
