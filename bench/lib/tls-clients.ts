/**
 * In-process clients for `bench -- tls`: an HTTP/2 load loop (many streams over a few
 * sessions, what h2 clients do; wrk speaks only HTTP/1.1) and EventSource subscribers over
 * plain HTTP/1.1, TLS HTTP/1.1 (one connection each) and TLS h2 (up to 100 streams a session).
 *
 * @example
 *   const load = await h2Load({ origin: 'https://127.0.0.1:8443', ca, path: '/', sessions: 2, streamsPerSession: 25, seconds: 3 });
 *   const subs = await subscribe('h2', origin, '/sub/bench', 1000, ca);
 *   await subs.reached(1); // every subscriber has read one `data:` line
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type ClientHttp2Session } from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { once } from 'node:events';
import type { LoadResult } from './load.ts';

export type Transport = 'http' | 'https' | 'h2';

const STREAMS_PER_SESSION = 100;

async function session(origin: string, ca: string): Promise<ClientHttp2Session> {
  const s = connect(origin, { ca, servername: 'localhost' });
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

/** Requests/s and latency of `path` over h2: `sessions` × `streamsPerSession` requests in flight. */
export async function h2Load(options: { origin: string; ca: string; path: string; sessions: number; streamsPerSession: number; seconds: number }): Promise<LoadResult> {
  const sessions = await Promise.all(Array.from({ length: options.sessions }, () => session(options.origin, options.ca)));
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + options.seconds * 1000;
  const loop = async (s: ClientHttp2Session) => {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        const stream = s.request({ ':path': options.path });
        const [head] = (await once(stream, 'response')) as [{ ':status'?: number }];
        stream.resume();
        await once(stream, 'end');
        if ((head[':status'] ?? 500) >= 400) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(sessions.flatMap((s) => Array.from({ length: options.streamsPerSession }, () => loop(s))));
  for (const s of sessions) s.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { requestsPerSecond: latencies.length / options.seconds, p50Ms: at(0.5), p99Ms: at(0.99), errors };
}

export interface Subscribers {
  /** Resolves once every subscriber has read `k` `data:` lines. */
  reached(k: number): Promise<void>;
  close(): void;
}

/** `count` EventSource subscribers of `path`, resolved once every one has its 200 head. */
export async function subscribe(transport: Transport, origin: string, path: string, count: number, ca: string): Promise<Subscribers> {
  const seen = new Array<number>(count).fill(0);
  const reachedBy = new Map<number, number>();
  const waiters = new Map<number, () => void>();
  const closers: (() => void)[] = [];
  const onData = (i: number) => (chunk: Buffer | string) => {
    const text = String(chunk);
    for (let at = text.indexOf('data:'); at !== -1; at = text.indexOf('data:', at + 5)) {
      const k = ++seen[i]!;
      const n = (reachedBy.get(k) ?? 0) + 1;
      reachedBy.set(k, n);
      if (n === count) waiters.get(k)?.();
    }
  };
  const headers = { accept: 'text/event-stream' };
  if (transport === 'h2') {
    const sessions = await Promise.all(Array.from({ length: Math.ceil(count / STREAMS_PER_SESSION) }, () => session(origin, ca)));
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const stream = sessions[Math.floor(i / STREAMS_PER_SESSION)]!.request({ ':path': path, ...headers });
      stream.on('data', onData(i));
      await once(stream, 'response');
    }));
    closers.push(() => sessions.forEach((s) => s.destroy()));
  } else {
    const agent = transport === 'https' ? new HttpsAgent({ maxSockets: Infinity, ca, servername: 'localhost' }) : new HttpAgent({ maxSockets: Infinity });
    const send = transport === 'https' ? httpsRequest : httpRequest;
    await Promise.all(Array.from({ length: count }, (_, i) => new Promise<void>((resolve, reject) => {
      const req = send(`${origin}${path}`, { agent, headers }, (res: IncomingMessage) => {
        res.on('data', onData(i));
        resolve();
      });
      req.on('error', reject);
      req.end();
    })));
    closers.push(() => agent.destroy());
  }
  return {
    reached: (k) => (reachedBy.get(k) ?? 0) >= count ? Promise.resolve() : new Promise((resolve) => waiters.set(k, resolve)),
    close: () => closers.forEach((close) => close()),
  };
}
