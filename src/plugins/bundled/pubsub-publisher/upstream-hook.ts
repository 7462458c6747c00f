/**
 * nchan_publisher_upstream_request on a `pubsub-publisher` route: the body is POSTed to the app
 * before it is published, once for all the request's channels (the answers, shared with the
 * internal publisher, are in src/pubsub/publisher/upstream-request.ts; statuses checked against
 * real nchan 1.3.6 in test/differential/hooks-vs-nchan.test.ts). A dropped message (204) is
 * answered 204, as nchan.
 *
 * @example
 *   kong.response.terminate({ handle: ({ req, res }) => publishThroughUpstream(hook, req, res) });
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPubsubError } from '../../../pubsub/errors.ts';
import type { HookHeaders } from '../../../pubsub/hooks.ts';
import type { Hub } from '../../../pubsub/hub.ts';
import { readBody, respondError, respondStatus } from '../../../pubsub/publisher/http-publisher.ts';
import { passUpstream, type PublisherUpstream } from '../../../pubsub/publisher/upstream-request.ts';
import { firstValue, messageInput, publishEach } from './publish.ts';

export interface UpstreamPublish extends PublisherUpstream {
  readonly hub: Hub;
  readonly maxBodySize: number;
  readonly ids: readonly string[];
  /** What the app is sent along with the body (hookRequestHeaders). */
  readonly headers: HookHeaders;
}

export async function publishThroughUpstream(hook: UpstreamPublish, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const data = await readBody(req, hook.maxBodySize);
    const message = await passUpstream(hook, hook.headers, messageInput(req, data, firstValue(req.headers['content-type'])));
    if (message === null) return respondStatus(res, 204);
    return await publishEach(hook.hub, res, hook.ids, message, req.headers.accept);
  } catch (error) {
    if (isPubsubError(error, 'MESSAGE_TOO_LARGE')) res.setHeader('connection', 'close');
    respondError(res, error);
  }
}
