import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'undici';
import WebSocket from 'ws';
import type { Gateway } from '../../src/gateway/gateway.ts';

/**
 * Resolves once `gateway` holds `count` subscriber streams. A subscriber is held a few promise
 * turns after the engine attached it (replay, then registration); no event marks that moment for
 * a waiting long-poll, so this yields to the event loop (never a timer) until it is so.
 */
export async function heldStreams(gateway: Gateway, count: number): Promise<void> {
  for (let turn = 0; gateway.openStreams !== count; turn++) {
    if (turn > 10_000) throw new Error(`${gateway.openStreams} streams held, not ${count}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A WebSocket subscriber: every text frame received, and how it closed. */
export interface WsSubscriber {
  readonly ws: WebSocket;
  readonly messages: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `count` frames have arrived (or rejects if the socket closes first). */
  received(count: number): Promise<string[]>;
}

export interface WsOptions {
  readonly headers?: Record<string, string>;
  readonly protocol?: string;
  /**
   * Sees every frame, the first ones included: frames that arrive with the handshake answer are
   * emitted before an `await` on the open socket resumes, so a listener added then misses them.
   */
  readonly onMessage?: (text: string) => void;
}

/** Opens `url` (ws://...) and resolves once the handshake is done. */
export async function openWebSocket(url: string, options: WsOptions = {}): Promise<WsSubscriber> {
  const { headers = {}, protocol, onMessage } = options;
  const ws = protocol === undefined ? new WebSocket(url, { headers }) : new WebSocket(url, protocol, { headers });
  const messages: string[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  ws.on('message', (data) => {
    messages.push(String(data));
    onMessage?.(String(data));
  });
  await once(ws, 'open');
  return {
    ws,
    messages,
    closed,
    received: (count) =>
      new Promise<string[]>((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          ws.off('message', check);
          resolve(messages);
        };
        ws.on('message', check);
        void closed.then(({ code }) => reject(new Error(`closed (${code}) after ${messages.length} of ${count} frames`)));
        check();
      }),
  };
}

export interface LongPollAnswer {
  readonly body: string;
  readonly contentType: string;
  /** `If-Modified-Since` / `If-None-Match` that ask for the next message. */
  readonly next: Record<string, string>;
}

/** One long-poll answer (must be 200) from `url`; pass `answer.next` as `walk` to read on. */
export async function longPollAt(url: string, walk: Record<string, string> = {}): Promise<LongPollAnswer> {
  const res = await request(url, { headers: walk });
  assert.equal(res.statusCode, 200);
  return {
    body: await res.body.text(),
    contentType: String(res.headers['content-type']),
    next: { 'if-modified-since': String(res.headers['last-modified']), 'if-none-match': String(res.headers.etag) },
  };
}
