/**
 * nchan's HTTP publisher API for one channel (reference: nchan-protocol.md §1.2; where real
 * nchan differs from the doc, test/differential/nchan-reference.test.ts wins).
 *
 * - `POST`/`PUT`: publishes the body (`Content-Type` stored, `X-EventSource-Event` = SSE event
 *   name); 201 when the channel has subscribers, 202 when not; the body is channel info. With
 *   `upstream` the body first goes through the app (nchan_publisher_upstream_request, see
 *   upstream-request.ts): it may replace it, keep it, drop it (204) or refuse it.
 * - `GET`: channel info, 404 (empty body) when the channel does not exist.
 * - `DELETE`: ends the channel's subscribers (CHANNEL_DELETED) and answers 200 with the info as
 *   nchan does (subscribers still counted, `queued messages: 0`), or 404.
 * - `OPTIONS`: CORS preflight; any other method: 405 with `Allow`.
 * - A channel id longer than `maxChannelIdLength` is 403 (nchan_max_channel_id_length).
 * - A body over `maxBodySize` is 413; `PubsubError`s map through `PUBSUB_ERROR_STATUS` with a
 *   JSON `{ message, code }` body.
 *
 * Deliberate divergence: after a DELETE nchan still answers GET with 200 and zeros (its channel
 * record lingers); Sluice forgets the channel, so GET answers 404 as the publisher API documents
 * ("404 if the channel does not exist"). The sluice-vs-nchan comparison must allow for this.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChannelInfo, PublishInput } from '../engine.ts';
import { PUBSUB_ERROR_STATUS, PubsubError, isPubsubError } from '../errors.ts';
import type { HookClientCert } from '../hooks.ts';
import type { Hub } from '../hub.ts';
import { formatChannelInfo } from './channel-info.ts';
import { passUpstream, publisherHookHeaders, type PublisherUpstream } from './upstream-request.ts';
import { readBoundedBody } from '../../http/read-body.ts';

export interface PublisherOptions {
  readonly hub: Hub;
  /** nchan_max_channel_id_length (default 1024); longer ids get 403. */
  readonly maxChannelIdLength?: number;
  /** Largest accepted request body in bytes (default 1 MiB, nginx's client_max_body_size). */
  readonly maxBodySize?: number;
  /** nchan_publisher_upstream_request: every message goes through this app before it is published. */
  readonly upstream?: PublisherUpstream;
  /** The publisher's verified client certificate (internal listener mTLS), told to `upstream`. */
  readonly clientCert?: (req: IncomingMessage) => HookClientCert | undefined;
}

export type PublisherHandler = (req: IncomingMessage, res: ServerResponse, channelId: string) => Promise<void>;

export const DEFAULT_MAX_CHANNEL_ID_LENGTH = 1024;
export const DEFAULT_MAX_BODY_SIZE = 1024 * 1024;
export const PUBLISHER_ALLOW = 'GET, POST, PUT, DELETE, OPTIONS';
const CORS_METHODS = 'GET, POST, PUT, DELETE';
const CORS_HEADERS = 'If-None-Match, If-Modified-Since, Content-Type, Cache-Control, X-EventSource-Event';

/** Answers a status with an empty body (nchan's `nchan_respond_status`). */
export function respondStatus(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-length': '0' });
  res.end();
}

/** A `PubsubError` as its nchan status with a JSON `{ message, code }` body; anything else is 500. */
export function respondError(res: ServerResponse, e: unknown): void {
  const status = isPubsubError(e) ? PUBSUB_ERROR_STATUS[e.code] : 500;
  const body = JSON.stringify(isPubsubError(e) ? { message: e.message, code: e.code } : { message: 'internal error', code: 'INTERNAL' });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function respondInfo(res: ServerResponse, status: number, info: ChannelInfo, accept: string | undefined): void {
  const { contentType, body } = formatChannelInfo(info, accept);
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** Reads the whole body; rejects with `MESSAGE_TOO_LARGE` past `limit` bytes (declared or streamed). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readBoundedBody(req, limit, { tooLarge: () => new PubsubError('MESSAGE_TOO_LARGE', `request body exceeds ${limit} bytes`) });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The channel id check shared by HTTP and WebSocket publishing: too long → 403. */
export function channelIdTooLong(channelId: string, max: number): boolean {
  return channelId.length > max;
}

export function createPublisherHandler(options: PublisherOptions): PublisherHandler {
  const { hub } = options;
  const maxIdLength = options.maxChannelIdLength ?? DEFAULT_MAX_CHANNEL_ID_LENGTH;
  const maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
  const upstream = options.upstream && { maxBodySize, ...options.upstream };

  return async (req, res, channelId) => {
    const accept = header(req, 'accept');
    try {
      if (channelIdTooLong(channelId, maxIdLength)) {
        req.resume();
        return respondStatus(res, 403);
      }
      switch (req.method) {
        case 'POST':
        case 'PUT': {
          const data = await readBody(req, maxBodySize);
          const contentType = header(req, 'content-type');
          const eventName = header(req, 'x-eventsource-event');
          let message: PublishInput | null = {
            data,
            ...(contentType !== undefined && contentType !== '' ? { contentType } : {}),
            ...(eventName !== undefined && eventName !== '' ? { eventName } : {}),
          };
          if (upstream) {
            message = await passUpstream(upstream, publisherHookHeaders(req, [channelId], 'http', options.clientCert?.(req)), message);
            if (message === null) return respondStatus(res, 204);
          }
          const { channel } = await hub.publish(channelId, message);
          return respondInfo(res, channel.subscribers > 0 ? 201 : 202, channel, accept);
        }
        case 'GET': {
          const info = await hub.info(channelId);
          return info === null ? respondStatus(res, 404) : respondInfo(res, 200, info, accept);
        }
        case 'DELETE': {
          const info = await hub.delete(channelId);
          // nchan answers with the buffer already emptied, the subscribers still counted.
          return info === null ? respondStatus(res, 404) : respondInfo(res, 200, { ...info, messages: 0 }, accept);
        }
        case 'OPTIONS': {
          const origin = header(req, 'origin');
          return respondStatus(res, 200, {
            allow: CORS_METHODS,
            'access-control-allow-origin': origin ?? '*',
            'access-control-allow-methods': CORS_METHODS,
            'access-control-allow-headers': CORS_HEADERS,
            ...(origin !== undefined ? { 'access-control-allow-credentials': 'true' } : {}),
          });
        }
        default:
          req.resume();
          return respondStatus(res, 405, { allow: PUBLISHER_ALLOW });
      }
    } catch (e) {
      if (isPubsubError(e, 'MESSAGE_TOO_LARGE')) res.setHeader('connection', 'close');
      respondError(res, e);
    }
  };
}
