/**
 * nchan_publisher_upstream_request: each message is POSTed to the app before it is published,
 * once for all the request's channels (reference: nchan-protocol.md §1.8; statuses checked
 * against real nchan 1.3.6 in test/differential/hooks-vs-nchan.test.ts).
 *
 * | the app answers | the publisher gets                                                 |
 * |-----------------|--------------------------------------------------------------------|
 * | 200, 201, 202   | the answer's body (and Content-Type) published: 201/202 + info      |
 * | 304             | the original message published: 201/202 + info                       |
 * | 204             | 204, nothing published                                             |
 * | anything else   | 403 `UPSTREAM_REFUSED`, nothing published (nchan: 403 Forbidden)  |
 * | no answer       | 502 (unreachable) / 504 (past `upstream_timeout`); nchan says 500  |
 *
 * @example
 *   kong.response.terminate({ handle: ({ req, res }) => publishThroughUpstream(hook, req, res) });
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PubsubError, isPubsubError } from '../../../pubsub/errors.ts';
import { callHook, type HookHeaders } from '../../../pubsub/hooks.ts';
import type { Hub } from '../../../pubsub/hub.ts';
import { readBody, respondError, respondStatus } from '../../../pubsub/publisher/http-publisher.ts';
import { firstValue, messageInput, publishEach } from './publish.ts';

export interface UpstreamPublish {
  readonly hub: Hub;
  readonly url: string;
  readonly timeoutMs: number;
  readonly maxBodySize: number;
  readonly ids: readonly string[];
  /** What the app is sent along with the body (hookRequestHeaders). */
  readonly headers: HookHeaders;
  readonly onDown: (error: Error) => void;
}

export async function publishThroughUpstream(hook: UpstreamPublish, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const data = await readBody(req, hook.maxBodySize);
    const result = await callHook({ url: hook.url, method: 'POST', headers: hook.headers, body: data, timeoutMs: hook.timeoutMs, maxBodySize: hook.maxBodySize });
    if (result.kind === 'timeout') return writeJson(res, 504, { message: 'The publisher upstream request timed out' });
    if (result.kind === 'down') {
      hook.onDown(result.error);
      return writeJson(res, 502, { message: 'The publisher upstream request failed' });
    }
    switch (result.status) {
      case 200:
      case 201:
      case 202:
        return await publishEach(hook.hub, res, hook.ids, messageInput(req, result.body, firstValue(result.headers['content-type'])), req.headers.accept);
      case 304:
        return await publishEach(hook.hub, res, hook.ids, messageInput(req, data, firstValue(req.headers['content-type'])), req.headers.accept);
      case 204:
        return respondStatus(res, 204);
      default:
        // The app's own answer stays between it and the gateway, as in nchan.
        throw new PubsubError('UPSTREAM_REFUSED', `the publisher upstream request answered ${result.status}`);
    }
  } catch (error) {
    if (isPubsubError(error, 'MESSAGE_TOO_LARGE')) res.setHeader('connection', 'close');
    respondError(res, error);
  }
}

function writeJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
