/**
 * Publishing over a WebSocket (nchan-protocol.md §1.2): each frame the client sends is one
 * message on the channel; text frames carry no content type, binary frames are stored as
 * `application/octet-stream`. Each publish is answered with a text frame holding the channel
 * info in the format the handshake's `Accept` asked for. Frames are published in order, one at
 * a time. A frame the hub refuses (e.g. MESSAGE_TOO_LARGE by channel policy) is answered with
 * a JSON `{ message, code }` text frame and the connection stays open; a frame over
 * `maxBodySize` closes the connection with 1009 (the `ws` package's maxPayload).
 *
 * With `upstream` (nchan_publisher_upstream_request) every frame is first POSTed to the app,
 * with the handshake's headers and `X-Publisher-Type: websocket`: its answer may replace the
 * message, keep it, drop it (204: no reply frame, as nchan) or refuse it (an error reply frame
 * `UPSTREAM_REFUSED`, `UPSTREAM_UNAVAILABLE` or `UPSTREAM_TIMEOUT`; the connection stays open).
 *
 * @example
 *   const wsPub = createWebSocketPublisher({ hub });
 *   server.on('upgrade', (req, socket, head) => wsPub.handleUpgrade(req, socket, head, 'chat'));
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { PublishInput } from '../engine.ts';
import { isPubsubError } from '../errors.ts';
import type { HookClientCert, HookHeaders } from '../hooks.ts';
import type { Hub } from '../hub.ts';
import { formatChannelInfo } from './channel-info.ts';
import { DEFAULT_MAX_BODY_SIZE } from './http-publisher.ts';
import { passUpstream, publisherHookHeaders, type PublisherUpstream } from './upstream-request.ts';

export interface WebSocketPublisherOptions {
  readonly hub: Hub;
  /** Largest frame accepted, in bytes (default 1 MiB); larger closes with 1009. */
  readonly maxBodySize?: number;
  /** nchan_publisher_upstream_request: every frame goes through this app before it is published. */
  readonly upstream?: PublisherUpstream;
  /** The publisher's verified client certificate (internal listener mTLS), told to `upstream`. */
  readonly clientCert?: (req: IncomingMessage) => HookClientCert | undefined;
}

export interface WebSocketPublisher {
  /** Completes the handshake and publishes every frame to `channelId`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, channelId: string): void;
  /** Closes every publisher connection (1001). */
  close(): void;
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

export function createWebSocketPublisher(options: WebSocketPublisherOptions): WebSocketPublisher {
  const { hub } = options;
  const maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
  const upstream = options.upstream && { maxBodySize, ...options.upstream };
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBodySize });

  /** The upstream hook's verdict on one frame (`null`: dropped); the frame as it is without a hook. */
  const vet = (message: PublishInput, hookHeaders: HookHeaders | undefined): Promise<PublishInput | null> => {
    if (!upstream || !hookHeaders) return Promise.resolve(message);
    const headers = message.contentType === undefined ? hookHeaders : { ...hookHeaders, 'content-type': message.contentType };
    return passUpstream(upstream, headers, message);
  };

  const serve = (ws: WebSocket, accept: string | undefined, channelId: string, hookHeaders: HookHeaders | undefined): void => {
    let chain: Promise<void> = Promise.resolve();
    ws.on('message', (raw, isBinary) => {
      const data = toBuffer(raw);
      chain = chain.then(async () => {
        let reply: string;
        try {
          const message = await vet(isBinary ? { data, contentType: 'application/octet-stream' } : { data }, hookHeaders);
          if (message === null) return;
          const { channel } = await hub.publish(channelId, message);
          reply = formatChannelInfo(channel, accept).body;
        } catch (e) {
          reply = JSON.stringify(isPubsubError(e) ? { message: e.message, code: e.code } : { message: 'internal error', code: 'INTERNAL' });
        }
        if (ws.readyState === ws.OPEN) ws.send(reply);
      });
    });
    ws.on('error', () => ws.terminate());
  };

  return {
    handleUpgrade(req, socket, head, channelId) {
      const accept = Array.isArray(req.headers.accept) ? req.headers.accept.join(', ') : req.headers.accept;
      // Taken from the handshake: the socket is the one the certificate was verified on.
      const hookHeaders = upstream ? publisherHookHeaders(req, [channelId], 'websocket', options.clientCert?.(req)) : undefined;
      wss.handleUpgrade(req, socket, head, (ws) => serve(ws, accept, channelId, hookHeaders));
    },
    close() {
      for (const ws of wss.clients) ws.close(1001);
      wss.close();
    },
  };
}
