import { once } from 'node:events';
import WebSocket from 'ws';

/** A WebSocket subscriber: every text frame received, and how it closed. */
export interface WsSubscriber {
  readonly ws: WebSocket;
  readonly messages: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `count` frames have arrived (or rejects if the socket closes first). */
  received(count: number): Promise<string[]>;
}

/** Opens `url` (ws://...) and resolves once the handshake is done. */
export async function openWebSocket(url: string, headers: Record<string, string> = {}): Promise<WsSubscriber> {
  const ws = new WebSocket(url, { headers });
  const messages: string[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  ws.on('message', (data) => messages.push(String(data)));
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
