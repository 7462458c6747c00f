/**
 * nchan_publisher_upstream_request (reference: nchan-protocol.md §1.8), shared by every
 * publisher: `pubsub-publisher` routes and the internal listener's HTTP and WebSocket publisher.
 * The message is POSTed to the app before it is published, once for all of a request's channels.
 *
 * | the app answers | the message                                        | thrown                          |
 * |-----------------|----------------------------------------------------|---------------------------------|
 * | 200, 201, 202   | the answer's body (and Content-Type) instead        |                                 |
 * | 304             | the original                                         |                                 |
 * | 204             | dropped (`null`)                                     |                                 |
 * | anything else   |                                                      | `UPSTREAM_REFUSED` (403, nchan) |
 * | no answer       |                                                      | `UPSTREAM_UNAVAILABLE` (502) / `UPSTREAM_TIMEOUT` (504); nchan says 500 |
 *
 * The thrown errors are `PubsubError`s, so each publisher answers them as it answers any other
 * refused publish (an HTTP status with `{ message, code }`, or a WebSocket reply frame).
 *
 * @example
 *   const message = await passUpstream(upstream, publisherHookHeaders(req, [id], 'http'), { data });
 *   if (message === null) return respondStatus(res, 204); // the app dropped it
 *   await hub.publish(id, message);
 */
import type { IncomingMessage } from 'node:http';
import type { PublishInput } from '../engine.ts';
import { PubsubError } from '../errors.ts';
import { callHook, hookRequestHeaders, type HookClientCert, type HookHeaders } from '../hooks.ts';

export interface PublisherUpstream {
  /** Absolute http(s) URL the messages are POSTed to. */
  readonly url: string;
  /** Deadline for the whole exchange, in ms. */
  readonly timeoutMs: number;
  /** Largest answer body accepted (the publisher's own message limit; default the hooks' 8 MiB). */
  readonly maxBodySize?: number;
  /** Told why the app could not be reached (the caller logs it; the publisher only gets 502). */
  readonly onDown?: (error: Error) => void;
}

/** `$nchan_publisher_type`: how the message came in. */
export type PublisherType = 'http' | 'websocket';

/**
 * What the app is told about a publish: the publisher's request headers, `X-Original-URI`,
 * `X-Channel-Id`, `X-Publisher-Type` and, from a verified client certificate, `X-Client-Cert-*`.
 */
export function publisherHookHeaders(req: IncomingMessage, channels: readonly string[], type: PublisherType, clientCert?: HookClientCert): HookHeaders {
  return hookRequestHeaders(req.headers, {
    originalUri: req.url ?? '/',
    channels,
    extra: { 'x-publisher-type': type },
    ...(clientCert ? { clientCert } : {}),
  });
}

/** Asks the app about `message`: what to publish instead, `null` to drop it; throws when it refused or failed. */
export async function passUpstream(upstream: PublisherUpstream, headers: HookHeaders, message: PublishInput): Promise<PublishInput | null> {
  const result = await callHook({
    url: upstream.url,
    method: 'POST',
    headers,
    body: message.data,
    timeoutMs: upstream.timeoutMs,
    ...(upstream.maxBodySize !== undefined ? { maxBodySize: upstream.maxBodySize } : {}),
  });
  if (result.kind === 'timeout') throw new PubsubError('UPSTREAM_TIMEOUT', 'The publisher upstream request timed out');
  if (result.kind === 'down') {
    upstream.onDown?.(result.error);
    throw new PubsubError('UPSTREAM_UNAVAILABLE', 'The publisher upstream request failed');
  }
  switch (result.status) {
    case 200:
    case 201:
    case 202: {
      const answered = result.headers['content-type'];
      const contentType = Array.isArray(answered) ? answered[0] : answered;
      return {
        data: result.body,
        ...(contentType ? { contentType } : {}),
        ...(message.eventName !== undefined ? { eventName: message.eventName } : {}),
      };
    }
    case 304:
      return message;
    case 204:
      return null;
    default:
      // The app's own answer stays between it and the gateway, as in nchan.
      throw new PubsubError('UPSTREAM_REFUSED', `the publisher upstream request answered ${result.status}`);
  }
}
