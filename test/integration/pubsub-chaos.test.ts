/**
 * Chaos test (issue 4): SUBSCRIBERS EventSource subscribers disconnect and resume at random
 * while a publisher sends MESSAGES messages; every subscriber must end with the complete
 * sequence 0..MESSAGES-1, in order, exactly once.
 *
 * Everything goes through real sockets: a gateway with a `pubsub-subscriber` route (EventSource
 * only) and the internal publisher (`POST /pub/chaos`, sequential, bodies = sequence numbers).
 * Subscribers are undici request streams parsed as SSE here; a disconnect aborts the request
 * (the socket is destroyed), a resume sends `Last-Event-ID` with the last id that subscriber
 * parsed. The channel keeps BUFFER >= MESSAGES messages, so no resume can fall off the buffer
 * and the expectation is exact: no gaps, no duplicates, no reordering.
 *
 * Randomness is seeded: one PRNG per subscriber derived from the seed, so each subscriber's
 * plan (when to drop, how long to stay away) does not depend on event-loop interleaving.
 * Reproduce a failure with `SLUICE_CHAOS_SEED=<seed> node scripts/run-tests.mjs pubsub-chaos`.
 * Delays are counted in publisher progress (reconnect once N more messages are published), never
 * wall-clock sleeps. Socket timing itself is not deterministic, so a seed reproduces the plan,
 * not the exact interleaving.
 *
 * Disconnect modes, picked per connection:
 * - `early`: abort right after issuing the request (often before the response head: the
 *   gateway sees the client go away while subscribing);
 * - `after-events`: abort after parsing k more events (sometimes k is tiny: flapping clients);
 * - `at-progress`: abort when the publisher reaches some count, whatever was received (data in
 *   flight is lost and must be replayed).
 * A server-side end with `: SLOW_CONSUMER` (the hub's bounded queue) is a legitimate disconnect
 * too and is resumed the same way; any other end of stream is a failure.
 *
 * Threads: the gateway runs in one worker, the publisher and the subscribers in another, so the
 * test uses both cores and neither side pays for node:test's async hooks (which tax every
 * promise of the thread that runs the test). The main thread only runs node:test and asserts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';

// Scale knobs. Issue 4 asks for 500 subscribers x 10,000 messages. That passes; it exceeds
// the ~60 s first aimed for on the 2-core box (measured 97.5 s alone, both threads ~92%
// busy (every delivery is one writev on the gateway plus one read and parse on the client,
// ~19.5 us each, 5M of them) and takes ~2.5 min inside the whole `npm test` (3 min in all, well
// within the 10-minute budget), so the default is the full 500 x 10,000.
// SLUICE_CHAOS_SUBSCRIBERS / SLUICE_CHAOS_MESSAGES make it smaller for quick local runs; the
// deadline below grows with the load.
const SUBSCRIBERS = Number(process.env.SLUICE_CHAOS_SUBSCRIBERS ?? 500);
const MESSAGES = Number(process.env.SLUICE_CHAOS_MESSAGES ?? 10_000);
/** Channel buffer (the 10,000), never below MESSAGES: resumes can never miss. */
const BUFFER = Math.max(10_000, MESSAGES);
/** Average number of messages between two chaos disconnects of one subscriber. */
const MEAN_RUN = Math.max(1, Math.floor(MESSAGES / 10));
/** A dropped subscriber comes back after 0..MAX_AWAY more published messages. */
const MAX_AWAY = Math.max(1, Math.floor(MESSAGES / 50));
/** Per subscriber; past it the subscriber stays connected, so the run always converges. */
const MAX_DISCONNECTS = 40;
/** Diagnostics only: past this the clients give up and report the stuck subscribers. */
const DEADLINE_MS = 60_000 + Math.ceil(SUBSCRIBERS * MESSAGES * 0.05);

const SEED = process.env.SLUICE_CHAOS_SEED !== undefined && process.env.SLUICE_CHAOS_SEED !== ''
  ? Number(process.env.SLUICE_CHAOS_SEED) >>> 0
  : (Math.random() * 2 ** 32) >>> 0;

const CONFIG = `_format_version: "3.0"
channels:
  - name: chaos
    match: chaos
    message_buffer_length: ${BUFFER}
    message_timeout: 0
routes:
  - name: chaos-events
    paths: ["/chaos/events"]
    plugins:
      - name: pubsub-subscriber
        config: { channels: [chaos], transports: [eventsource], first_message: oldest }
`;

interface Urls {
  readonly proxy: string;
  readonly internal: string;
  readonly admin: string;
}

interface Stats {
  connects: number;
  early: number;
  afterEvents: number;
  atProgress: number;
  slowConsumer: number;
  resumedWithId: number;
  replayed: number;
}

interface Outcome {
  readonly failures: string[];
  readonly stats: Stats;
  /** Per subscriber: how many messages it got (the next sequence number it expected). */
  readonly next: number[];
  readonly publishedInMs: number;
  readonly elapsedMs: number;
  readonly gatewaySlowConsumerCloses: number | undefined;
  /** Event-loop utilization of the clients' thread (1 = saturated). */
  readonly clientsBusy: number;
}

type Role = { role: 'gateway' } | { role: 'clients'; urls: Urls; seed: number };

/** mulberry32: a small, fast, seedable PRNG; returns [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [lo, hi]. */
const between = (rnd: () => number, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

/** How many messages until the next chaos disconnect: often a few (flapping), usually ~MEAN_RUN. */
const runLength = (rnd: () => number) => (rnd() < 0.3 ? between(rnd, 1, 10) : between(rnd, 1, 2 * MEAN_RUN));

/** The publisher's progress; callbacks fire once it has sent n messages (or finished). */
class Progress {
  sent = 0;
  done = false;
  private readonly waiters = new Map<number, (() => void)[]>();

  at(n: number, fn: () => void): void {
    if (this.done || n <= this.sent) {
      setImmediate(fn);
      return;
    }
    const list = this.waiters.get(n);
    if (list === undefined) this.waiters.set(n, [fn]);
    else list.push(fn);
  }

  advance(): void {
    this.sent++;
    const list = this.waiters.get(this.sent);
    if (list === undefined) return;
    this.waiters.delete(this.sent);
    for (const fn of list) fn();
  }

  finish(): void {
    this.done = true;
    const all = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const fn of all) fn();
  }
}

/** `<seconds>:<tag>` as `[seconds, tag]`; `undefined` when it is not a single-channel id. */
function parseId(id: string): [number, number] | undefined {
  const m = /^(\d+):(\d+)$/.exec(id);
  return m === null ? undefined : [Number(m[1]), Number(m[2])];
}

/** a strictly after b (b undefined = nothing yet). */
const isAfter = (a: [number, number], b: [number, number] | undefined) =>
  b === undefined || a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/** Aborting with a ready-made reason spares a DOMException (and a source-mapped stack) per hang-up. */
const HANG_UP = Object.freeze({ name: 'HangUp', message: 'the chaos test hung up' });

const describeError = (e: unknown) => (e instanceof Error ? e.stack ?? e.message : String(e));

/** The gateway worker: starts Sluice, reports its addresses, closes it when told. */
async function gatewayWorker(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('gatewayWorker runs in a worker');
  const { startGateway } = await import('../helpers/gateway.ts');
  const gw = await startGateway(CONFIG, {
    listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [{ host: '127.0.0.1', port: 0 }], internal: [{ host: '127.0.0.1', port: 0 }], status: [] },
  });
  const elu = performance.eventLoopUtilization();
  port.once('message', () => {
    const busy = performance.eventLoopUtilization(elu).utilization;
    void gw.close().then(() => port.postMessage(busy));
  });
  const urls: Urls = { proxy: gw.proxyUrl, internal: `http://${gw.gateway.addresses.internal[0]}`, admin: gw.adminUrl };
  port.postMessage(urls);
}

/** The clients worker: the publisher and every subscriber; reports an Outcome. */
async function runClients(urls: Urls, seed: number): Promise<Outcome> {
  const started = Date.now();
  const elu = performance.eventLoopUtilization();
  const subscribeUrl = `${urls.proxy}/chaos/events`;
  const subscriberAgent = new Agent({ connections: null, pipelining: 1 });
  const publisherAgent = new Agent({ connections: 1, pipelining: 1 });

  const progress = new Progress();
  const failures: string[] = [];
  const fail = (text: string) => {
    if (failures.length < 20) failures.push(text);
  };
  /** The id of message `seq` as the first subscriber to see it saw it; everyone must agree. */
  const idOf: (string | undefined)[] = new Array<string | undefined>(MESSAGES);
  const stats: Stats = { connects: 0, early: 0, afterEvents: 0, atProgress: 0, slowConsumer: 0, resumedWithId: 0, replayed: 0 };
  const next = new Array<number>(SUBSCRIBERS).fill(0);
  const live = new Set<AbortController>();
  let stopping = false;

  async function subscriber(index: number): Promise<void> {
    const rnd = mulberry32(seed ^ Math.imul(index + 1, 0x9e3779b1));
    let lastId: string | undefined;
    let lastParsed: [number, number] | undefined;
    let disconnects = 0;
    let failed = false;
    const bad = (text: string) => {
      failed = true;
      fail(`subscriber ${index} (connection ${disconnects + 1}, resumed from ${lastId ?? 'nothing'}): ${text}`);
    };

    /** One connection; resolves when it is over (aborted by us or ended by the server). */
    async function connection(): Promise<void> {
      const chaos = disconnects < MAX_DISCONNECTS && !stopping;
      const roll = rnd();
      const mode = !chaos ? 'none' : roll < 0.05 ? 'early' : roll < 0.55 ? 'after-events' : 'at-progress';
      let eventsLeft = mode === 'after-events' ? runLength(rnd) : Infinity;
      const ac = new AbortController();
      live.add(ac);
      let aborted = false;
      const abort = () => {
        if (aborted) return;
        aborted = true;
        ac.abort(HANG_UP);
      };
      stats.connects++;
      const resumedAt = progress.sent;
      if (lastId !== undefined) stats.resumedWithId++;
      if (mode === 'early') {
        stats.early++;
        setImmediate(abort);
      } else if (mode === 'at-progress') {
        progress.at(progress.sent + runLength(rnd), () => {
          if (!aborted) stats.atProgress++;
          abort();
        });
      }

      /** Handles one SSE block; false = stop reading this connection. */
      const onEvent = (block: string, comments: string[]): boolean => {
        let id: string | undefined;
        let data: string | undefined;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line);
          else if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data = data === undefined ? line.slice(6) : `${data}\n${line.slice(6)}`;
        }
        if (data === undefined && id === undefined) return true; // comments only (`: hi`)
        const expected = next[index] as number;
        if (id === undefined || data === undefined || !/^\d+$/.test(data)) {
          bad(`malformed event ${JSON.stringify(block)}`);
          return false;
        }
        const seq = Number(data);
        if (seq !== expected) {
          bad(`${seq < expected ? 'duplicate' : 'gap'}: got ${seq} (id ${id}), expected ${expected}`);
          return false;
        }
        const parsed = parseId(id);
        if (parsed === undefined || !isAfter(parsed, lastParsed)) {
          bad(`id ${id} of message ${seq} does not come after ${lastId ?? '(none)'}`);
          return false;
        }
        const known = idOf[seq];
        if (known === undefined) idOf[seq] = id;
        else if (known !== id) {
          bad(`message ${seq} has id ${id}, another subscriber saw ${known}`);
          return false;
        }
        if (seq < resumedAt) stats.replayed++;
        lastId = id;
        lastParsed = parsed;
        next[index] = seq + 1;
        if (seq + 1 === MESSAGES) return false; // complete: hang up
        if (--eventsLeft === 0) {
          stats.afterEvents++;
          return false;
        }
        return true;
      };

      try {
        let res: Awaited<ReturnType<typeof request>>;
        try {
          res = await request(subscribeUrl, {
            dispatcher: subscriberAgent,
            signal: ac.signal,
            headers: { accept: 'text/event-stream', ...(lastId !== undefined ? { 'last-event-id': lastId } : {}) },
          });
        } catch (e) {
          if (aborted) return;
          throw e;
        }
        if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
          bad(`answered ${res.statusCode} ${String(res.headers['content-type'])}: ${(await res.body.text()).slice(0, 200)}`);
          return;
        }
        const body = res.body;
        const comments: string[] = [];
        let buffer = '';
        // Listeners, not `for await`: a promise per chunk is most of the client's cost at this scale.
        await new Promise<void>((resolve, reject) => {
          body.on('data', (chunk: Buffer) => {
            if (aborted) return;
            buffer += chunk.toString('utf8');
            let end: number;
            while ((end = buffer.indexOf('\n\n')) !== -1) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (!onEvent(block, comments)) {
                abort();
                return;
              }
            }
          });
          body.once('end', () => {
            if (aborted) return resolve();
            // The server ended the stream: only the hub's bounded queue may do that here.
            if (comments.includes(': SLOW_CONSUMER')) stats.slowConsumer++;
            else bad(`the server ended the stream (comments ${JSON.stringify(comments)}, unparsed ${JSON.stringify(buffer.slice(0, 100))})`);
            resolve();
          });
          body.once('error', (e) => (aborted ? resolve() : reject(e)));
          body.once('close', () => {
            if (aborted) resolve();
          });
          if (aborted) resolve();
        });
      } finally {
        live.delete(ac);
        if (!aborted) ac.abort(HANG_UP); // release anything undici still holds
      }
    }

    try {
      while (!failed && !stopping && (next[index] as number) < MESSAGES) {
        await connection();
        if (failed || stopping || (next[index] as number) >= MESSAGES) break;
        disconnects++;
        const away = between(rnd, 0, MAX_AWAY);
        await new Promise<void>((resolve) => progress.at(progress.sent + away, resolve));
      }
    } catch (e) {
      bad(`threw ${describeError(e)}`);
    }
  }

  async function publisher(): Promise<void> {
    try {
      for (let seq = 0; seq < MESSAGES && !stopping; seq++) {
        const res = await request(`${urls.internal}/pub/chaos`, { method: 'POST', body: String(seq), dispatcher: publisherAgent });
        await res.body.dump();
        if (res.statusCode !== 201 && res.statusCode !== 202) {
          fail(`publishing ${seq} answered ${res.statusCode}`);
          return;
        }
        progress.advance();
      }
    } catch (e) {
      fail(`publisher threw ${describeError(e)}`);
    } finally {
      progress.finish();
    }
  }

  let publishedInMs = 0;
  let gatewaySlowConsumerCloses: number | undefined;
  let deadline: NodeJS.Timeout | undefined;
  try {
    const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => subscriber(i));
    const published = publisher().then(() => (publishedInMs = Date.now() - started));
    const everything = Promise.all([published, ...subscribers]);
    const timedOut = new Promise<'timeout'>((resolve) => (deadline = setTimeout(() => resolve('timeout'), DEADLINE_MS)));
    if ((await Promise.race([everything, timedOut])) === 'timeout') {
      const stuck = next.flatMap((n, i) => (n < MESSAGES ? [`${i}@${n}`] : []));
      fail(`not done after ${DEADLINE_MS} ms: published ${progress.sent}, ${stuck.length} subscriber(s) short (index@next): ${stuck.slice(0, 30).join(' ')}`);
      stopping = true;
      for (const ac of live) ac.abort(HANG_UP);
      progress.finish();
      await everything;
    }

    if (failures.length === 0) {
      // Every subscriber's release reached the engine: no subscriber count leaks.
      let info: { messages: number; subscribers: number } | undefined;
      for (let attempt = 0; attempt < 500; attempt++) {
        const res = await request(`${urls.internal}/pub/chaos`, { headers: { accept: 'application/json' }, dispatcher: publisherAgent });
        info = (await res.body.json()) as { messages: number; subscribers: number };
        if (info.subscribers === 0) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (info?.messages !== MESSAGES) fail(`channel holds ${info?.messages} messages, expected ${MESSAGES}`);
      if (info?.subscribers !== 0) fail(`channel still counts ${info?.subscribers} subscribers after everyone left`);
    }
    const status = await request(`${urls.admin}/status`, { dispatcher: publisherAgent });
    gatewaySlowConsumerCloses = ((await status.body.json()) as { pubsub?: { slow_consumer_closes?: number } }).pubsub?.slow_consumer_closes;
  } finally {
    clearTimeout(deadline);
    await subscriberAgent.destroy();
    await publisherAgent.close();
  }
  return { failures, stats, next, publishedInMs, elapsedMs: Date.now() - started, gatewaySlowConsumerCloses, clientsBusy: performance.eventLoopUtilization(elu).utilization };
}

/** Runs this file in a worker as `role`, tsx registered first (Node 20 workers ignore --import). */
function spawn(role: Role): Worker {
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  return new Worker(boot, { eval: true, execArgv: [], workerData: role });
}

/** The next message from a worker; rejects if it fails or exits first. */
function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (e: Error) => cleanup(() => reject(e));
    const onExit = (code: number) => cleanup(() => reject(new Error(`worker exited with ${code} before answering`)));
    const onMessage = (m: T) => cleanup(() => resolve(m));
    const cleanup = (then: () => void) => {
      worker.off('error', onError).off('exit', onExit).off('message', onMessage);
      then();
    };
    worker.on('error', onError).on('exit', onExit).on('message', onMessage);
  });
}

if (isMainThread) {
  test(`pub/sub chaos: ${SUBSCRIBERS} EventSource subscribers drop and resume during ${MESSAGES} publishes`, { timeout: DEADLINE_MS + 30_000 }, async (t) => {
    const gateway = spawn({ role: 'gateway' });
    let clients: Worker | undefined;
    let outcome: Outcome;
    let gatewayBusy: number;
    try {
      const urls = await nextMessage<Urls>(gateway);
      clients = spawn({ role: 'clients', urls, seed: SEED });
      outcome = await nextMessage<Outcome>(clients);
      const closed = nextMessage<number>(gateway);
      gateway.postMessage('close');
      gatewayBusy = await closed;
    } finally {
      await clients?.terminate();
      await gateway.terminate();
    }

    const { failures, stats, next, publishedInMs, elapsedMs, gatewaySlowConsumerCloses, clientsBusy } = outcome;
    const summary = `seed=${SEED} ${SUBSCRIBERS}x${MESSAGES} elapsed=${elapsedMs}ms published-in=${publishedInMs}ms `
      + `busy: gateway=${gatewayBusy.toFixed(2)} clients=${clientsBusy.toFixed(2)} `
      + `gateway-slow-consumer-closes=${gatewaySlowConsumerCloses} ${JSON.stringify(stats)}`;
    t.diagnostic(summary);
    if (failures.length > 0) {
      console.error(`pubsub-chaos FAILED with seed ${SEED}; reproduce: SLUICE_CHAOS_SEED=${SEED} node scripts/run-tests.mjs pubsub-chaos`);
    }
    assert.deepEqual(failures, [], `seed ${SEED} (SLUICE_CHAOS_SEED=${SEED} to reproduce): ${summary}`);
    assert.deepEqual(next, new Array<number>(SUBSCRIBERS).fill(MESSAGES), `seed ${SEED}: every subscriber ends with all ${MESSAGES} messages`);
    assert.ok(stats.resumedWithId > SUBSCRIBERS, `seed ${SEED}: the chaos resumed with Last-Event-ID (${stats.resumedWithId} times)`);
    assert.ok(stats.slowConsumer <= (gatewaySlowConsumerCloses ?? 0), `seed ${SEED}: every server-side close the clients saw was a counted slow consumer`);
  });
} else {
  const role = workerData as Role;
  if (role.role === 'gateway') await gatewayWorker();
  else parentPort?.postMessage(await runClients(role.urls, role.seed));
}
