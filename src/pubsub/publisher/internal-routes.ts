/**
 * The internal listener's pub/sub routes: `/pub/<channel id>` (HTTP publisher API and
 * WebSocket publishing), optionally through a publisher upstream hook; everything else is 404. The gateway's internal handler has already
 * checked `internal_allow` and the bearer token before calling `request` / `upgrade`.
 *
 * The channel id is the rest of the path after `/pub/` (query string dropped), percent-decoded;
 * it must be non-empty and free of control characters (else 400). Ids longer than
 * `maxChannelIdLength` are 403, as nchan.
 *
 * @example
 *   const pubsub = createInternalPubsubHandler({ hub });
 *   server.on('request', pubsub.request);
 *   server.on('upgrade', pubsub.upgrade);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { HookClientCert } from '../hooks.ts';
import type { Hub } from '../hub.ts';
import type { PublisherUpstream } from './upstream-request.ts';
import { channelIdTooLong, createPublisherHandler, DEFAULT_MAX_CHANNEL_ID_LENGTH, respondStatus } from './http-publisher.ts';
import { createWebSocketPublisher } from './websocket-publisher.ts';

export interface InternalPubsubOptions {
  readonly hub: Hub;
  /** nchan_max_channel_id_length (default 1024). */
  readonly maxChannelIdLength?: number;
  /** Largest publish body / WebSocket frame in bytes (default 1 MiB). */
  readonly maxBodySize?: number;
  /** `internal_publisher_upstream`: every message (HTTP or WebSocket) goes through this app first. */
  readonly upstream?: PublisherUpstream;
  /** The publisher's verified client certificate (mTLS), sent to `upstream` as `X-Client-Cert-*`. */
  readonly clientCert?: (req: IncomingMessage) => HookClientCert | undefined;
}

export interface InternalPubsubHandler {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes WebSocket publisher connections. */
  close(): void;
}

export const PUBLISHER_PREFIX = '/pub/';

/**
 * The channel id in a request path: `undefined` when the path is not `/pub/…` (404),
 * `null` when it is but the id is invalid (400), else the decoded id.
 */
export function publisherChannelId(url: string | undefined): string | null | undefined {
  const path = (url ?? '').split('?', 1)[0] ?? '';
  if (!path.startsWith(PUBLISHER_PREFIX)) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(path.slice(PUBLISHER_PREFIX.length));
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  if (id === '' || /[\u0000-\u001f\u007f]/.test(id)) return null;
  return id;
}

function refuseUpgrade(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function createInternalPubsubHandler(options: InternalPubsubOptions): InternalPubsubHandler {
  const maxIdLength = options.maxChannelIdLength ?? DEFAULT_MAX_CHANNEL_ID_LENGTH;
  const publisher = createPublisherHandler(options);
  const wsPublisher = createWebSocketPublisher(options);

  return {
    request(req, res) {
      const id = publisherChannelId(req.url);
      if (id === undefined || id === null) {
        req.resume();
        return respondStatus(res, id === null ? 400 : 404);
      }
      void publisher(req, res, id);
    },
    upgrade(req, socket, head) {
      const id = publisherChannelId(req.url);
      if (id === undefined || id === null) return refuseUpgrade(socket, id === null ? 400 : 404);
      if (channelIdTooLong(id, maxIdLength)) return refuseUpgrade(socket, 403);
      wsPublisher.handleUpgrade(req, socket, head, id);
    },
    close() {
      wsPublisher.close();
    },
  };
}
