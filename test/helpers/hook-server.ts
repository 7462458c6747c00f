/**
 * An app implementing nchan's hook endpoints, for the pub/sub hook tests. It records every call
 * and answers by path:
 * - `/auth`: 200, unless the client sent `x-user: mallory` (403) or `x-user: trudy` (406), each
 *   with a body and headers of its own (`x-denied-by: hook`, `www-authenticate`)
 * - `/slow`: never answers (the gateway's deadline must fire)
 * - `/sub`, `/unsub`: presence notifications, 204
 * - `/upstream`: the publisher's `x-action` picks 200 (rewrite) / 304 (keep) / 204 (drop), any
 *   other 409 with a body and headers of its own; `x-action: per-message` takes the action from
 *   the message itself, before a colon (`drop:spam`), for WebSocket publishers whose headers are
 *   the handshake's
 *
 * @example
 *   const hooks = new HookServer(); await hooks.start();
 *   const call = await hooks.next((c) => c.url === '/auth'); // resolves on the first match
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { startServer, type TestServer } from './servers.ts';

/** One call the hook server received. */
export interface HookCall {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

const DENIED: Readonly<Record<string, number>> = { mallory: 403, trudy: 406 };

export class HookServer {
  readonly calls: HookCall[] = [];
  private readonly waiters: { match: (call: HookCall) => boolean; resolve: (call: HookCall) => void }[] = [];
  private readonly stalled: ServerResponse[] = [];
  server!: TestServer;

  async start(): Promise<void> {
    this.server = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.answer({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() }, res));
    });
  }

  get url(): string {
    return this.server.url;
  }

  /** The first recorded call (past or future) that matches. */
  next(match: (call: HookCall) => boolean): Promise<HookCall> {
    const seen = this.calls.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  callsTo(path: string): HookCall[] {
    return this.calls.filter((call) => call.url === path);
  }

  async close(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    await this.server.close();
  }

  private answer(call: HookCall, res: ServerResponse): void {
    this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (!waiter.match(call)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(call);
    }
    switch (call.url) {
      case '/auth': {
        const user = String(call.headers['x-user']);
        const denied = DENIED[user];
        if (denied === undefined) return void res.writeHead(200).end();
        res.writeHead(denied, { 'content-type': 'text/plain', 'x-denied-by': 'hook', 'www-authenticate': 'Bearer realm="chat"' });
        res.end(`${user} may not come in`);
        return;
      }
      case '/slow':
        this.stalled.push(res);
        return;
      case '/sub':
      case '/unsub':
        res.writeHead(204).end();
        return;
      case '/upstream':
        return this.upstream(call, res);
      default:
        res.writeHead(404).end();
    }
  }

  private upstream(call: HookCall, res: ServerResponse): void {
    const action = call.headers['x-action'] === 'per-message' ? call.body.split(':', 1)[0] : call.headers['x-action'];
    switch (action) {
      case 'rewrite':
        res.writeHead(200, { 'content-type': 'text/x-rewritten' }).end(`REWRITTEN(${call.body})`);
        return;
      case 'keep':
        res.writeHead(304).end();
        return;
      case 'drop':
        res.writeHead(204).end();
        return;
      default:
        res.writeHead(409, { 'content-type': 'application/json', 'x-reason': 'moderated' }).end('{"error":"not allowed"}');
    }
  }
}

/** A port nothing listens on: bound, then closed. */
export async function closedPort(): Promise<number> {
  const server = await startServer(() => undefined);
  await server.close();
  return server.port;
}

/** Polls a publisher's channel info URL until it counts `n` subscribers (subscriptions open asynchronously). */
export async function waitForSubscribers(infoUrl: string, n: number): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const res = await request(infoUrl, { headers: { accept: 'application/json' } });
    const text = await res.body.text();
    if (res.statusCode === 200 && (JSON.parse(text) as { subscribers: number }).subscribers >= n) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never saw ${n} subscribers at ${infoUrl}`);
}

/** Reads a streamed body until `pattern` matches what has arrived. */
export async function readUntil(body: AsyncIterable<unknown>, pattern: RegExp): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    text += String(chunk);
    if (pattern.test(text)) return text;
  }
  throw new Error(`stream ended before ${pattern}: ${text}`);
}
