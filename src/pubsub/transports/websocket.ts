/**
 * WebSocket subscribers, as nchan:
 *
 * - the cursor comes from `resolveCursor` (in practice `?last_event_id=`, as NchanSubscriber.js
 *   sends); a bad id, or a refused subscription, is answered over HTTP before the upgrade (on
 *   `exchange.res`, which is bound to the socket);
 * - one frame per message: text, binary when the message is `application/octet-stream`;
 * - subprotocol `ws+meta.nchan`: `id: <id>\ncontent-type: <ct>\n\n<data>` (binary stays binary);
 * - PING frames every `options.websocketPingInterval` seconds; no PONG by the next one → terminated;
 * - backpressure: past `WS_HIGH_WATER_BYTES` buffered, the hub is paused until the socket drains;
 * - close codes: channel deleted → 1001 `410 Gone` (real nchan), slow consumer → 1008
 *   `SLOW_CONSUMER`, hub shutdown (drain) → 1012 `HUB_CLOSED` ("service restart": reconnect),
 *   on reload: route changed → 1012 `ROUTE_CHANGED`, route removed → 4404 `ROUTE_REMOVED`,
 *   plugins now refuse → 4403 `RECHECK_FAILED`, revocation → 4403 `REVOKED`; the client closing ends the subscription.
 *
 * @example
 *   server.on('upgrade', (req, socket, head) => websocketTransport.serve({ req, res, upgrade: { socket, head }, … }));
 */
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { Cursor, Message } from '../engine.ts';
import type { EndReason, Sink, Subscription } from '../hub.ts';
import { formatMessageId, type MessageId } from '../message-id.ts';
import { answerError, resolveCursor } from './resume.ts';
import type { SubscriberExchange, Transport } from './types.ts';

/** nchan's metadata subprotocol. */
export const WS_META_PROTOCOL = 'ws+meta.nchan';

/** Bytes buffered on the socket past which delivery pauses until it drains. */
export const WS_HIGH_WATER_BYTES = 1024 * 1024;

/** Close code and reason per end reason (a reason is at most 123 bytes). */
export const WS_CLOSE: Readonly<Record<Exclude<EndReason, 'UNSUBSCRIBED'>, { readonly code: number; readonly reason: string }>> = {
  CHANNEL_DELETED: { code: 1001, reason: '410 Gone' },
  SLOW_CONSUMER: { code: 1008, reason: 'SLOW_CONSUMER' },
  HUB_CLOSED: { code: 1012, reason: 'HUB_CLOSED' },
  // Application range (4000–4999), echoing HTTP 401.
  CREDENTIALS_EXPIRED: { code: 4401, reason: 'CREDENTIALS_EXPIRED' },
  // An operator closed the consumer's streams (echoing HTTP 403).
  REVOKED: { code: 4403, reason: 'REVOKED' },
  // 1012 "Service Restart": the client should reconnect (the new config takes it back).
  ROUTE_CHANGED: { code: 1012, reason: 'ROUTE_CHANGED' },
  // Application range again, echoing the HTTP answer a reconnect will get.
  ROUTE_REMOVED: { code: 4404, reason: 'ROUTE_REMOVED' },
  RECHECK_FAILED: { code: 4403, reason: 'RECHECK_FAILED' },
};

const wss = new WebSocketServer({
  noServer: true,
  clientTracking: false,
  perMessageDeflate: false,
  // Subscribers have nothing to say; keep what they may send small.
  maxPayload: 64 * 1024,
  handleProtocols: (protocols) => (protocols.has(WS_META_PROTOCOL) ? WS_META_PROTOCOL : false),
});

/** The frame payload for one message. */
export function websocketFrame(message: Message, id: MessageId, meta: boolean): { data: Buffer; binary: boolean } {
  const binary = message.contentType === 'application/octet-stream';
  if (!meta) return { data: message.data, binary };
  const head = Buffer.from(`id: ${formatMessageId(id)}\ncontent-type: ${message.contentType ?? ''}\n\n`);
  return { data: Buffer.concat([head, message.data]), binary };
}

/** One subscriber: the sink the hub writes to, before and after the handshake completes. */
class Session implements Sink {
  private ws: WebSocket | undefined;
  private subscription: Subscription | undefined;
  /** Taken before the socket was open (deliver returned false, so at most one). */
  private early: { message: Message; id: MessageId } | undefined;
  private endedFor: EndReason | undefined;
  private paused = false;
  private meta = false;

  deliver(message: Message, id: MessageId): boolean {
    if (this.ws === undefined) {
      this.early = { message, id };
      return false;
    }
    return this.send(message, id);
  }

  end(reason: EndReason): void {
    this.endedFor = reason;
    if (this.ws !== undefined) this.closeFor(reason);
  }

  /** The socket is open: send what came early, then let the hub go on. */
  open(ws: WebSocket, subscription: Subscription): void {
    this.ws = ws;
    this.subscription = subscription;
    this.meta = ws.protocol === WS_META_PROTOCOL;
    const early = this.early;
    this.early = undefined;
    const more = early === undefined ? true : this.send(early.message, early.id);
    if (this.endedFor !== undefined) this.closeFor(this.endedFor);
    else if (more) subscription.resume();
  }

  private send(message: Message, id: MessageId): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return true; // closing: nothing more to do
    const { data, binary } = websocketFrame(message, id, this.meta);
    ws.send(data, { binary }, (err) => {
      if (err !== undefined && err !== null) return; // the socket failed; 'close' follows
      // The callback of the last frame sent before pausing finds the socket drained.
      if (this.paused && ws.bufferedAmount < WS_HIGH_WATER_BYTES / 2) {
        this.paused = false;
        this.subscription?.resume();
      }
    });
    if (ws.bufferedAmount >= WS_HIGH_WATER_BYTES) {
      this.paused = true;
      return false;
    }
    return true;
  }

  private closeFor(reason: EndReason): void {
    const ws = this.ws;
    if (ws === undefined || reason === 'UNSUBSCRIBED') return;
    if (ws.readyState === WebSocket.OPEN) {
      const { code, reason: text } = WS_CLOSE[reason];
      ws.close(code, text);
    }
  }
}

async function refuse(exchange: SubscriberExchange, error: unknown): Promise<void> {
  const socket = exchange.upgrade?.socket;
  try {
    await answerError(exchange, error);
  } finally {
    // A hand-made ServerResponse does not end its socket; the upgrade request cannot go on anyway.
    if (socket !== undefined && !socket.destroyed) socket.end();
  }
}

export const websocketTransport: Transport = {
  name: 'websocket',
  async serve(exchange) {
    const { req, res, hub, channels, options, upgrade } = exchange;
    if (upgrade === undefined) {
      await exchange.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
      res.end('WebSocket handshake expected\n');
      return;
    }
    const { socket, head } = upgrade;

    let cursor: Cursor;
    try {
      cursor = resolveCursor(req, channels.length, options.firstMessage);
    } catch (e) {
      await refuse(exchange, e);
      return;
    }

    // Until the handshake completes the socket may die unseen by `ws` (which then never calls back).
    let gone = socket.destroyed;
    const onEarlyClose = () => (gone = true);
    socket.once('close', onEarlyClose);

    const session = new Session();
    let subscription: Subscription;
    try {
      subscription = await hub.subscribe(channels, cursor, session, options.limits);
    } catch (e) {
      socket.off('close', onEarlyClose);
      if (!gone) await refuse(exchange, e);
      return;
    }
    if (gone || socket.destroyed) {
      socket.off('close', onEarlyClose);
      await subscription.close();
      return;
    }

    const ws = await new Promise<WebSocket | undefined>((resolve) => {
      const onClose = () => resolve(undefined);
      socket.once('close', onClose);
      // From here on the socket is the WebSocket's, not the HTTP response's.
      if (res.socket === socket) res.detachSocket(socket as Socket);
      wss.handleUpgrade(req, socket, head, (client) => {
        socket.off('close', onClose);
        resolve(client);
      });
    });
    socket.off('close', onEarlyClose);
    if (ws === undefined) {
      await subscription.close(); // a bad handshake (ws answered it) or the client left
      return;
    }

    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('error', () => ws.terminate());
    ws.on('message', () => undefined); // a subscriber socket only listens

    let pinger: NodeJS.Timeout | undefined;
    if (options.websocketPingInterval > 0) {
      let alive = true;
      ws.on('pong', () => (alive = true));
      pinger = setInterval(() => {
        if (!alive) {
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, options.websocketPingInterval * 1000);
    }

    session.open(ws, subscription);
    await closed;
    clearInterval(pinger);
    await subscription.close();
  },
};
