/**
 * The internal listener's publisher API as the gateway runs it: nchan's `/pub/<channel>` (HTTP
 * and WebSocket) with the node's body limit and, when `internal_publisher_upstream` is set, every
 * message POSTed to that app first (nchan_publisher_upstream_request). The app is told the
 * publisher's verified client certificate (`X-Client-Cert-Subject`, `X-Client-Cert-Fingerprint`,
 * the same strings as the access log) when the listener uses mTLS.
 *
 * @example
 *   createInternalPublisher({ hub, maxBodySize: 0, logger, upstream: { url: 'https://app/moderate', timeoutMs: 5000 } });
 */
import type { Hub } from '../pubsub/hub.ts';
import { createInternalPubsubHandler, type InternalPubsubHandler } from '../pubsub/publisher/index.ts';
import type { Logger } from '../observability/logger.ts';
import { clientCertIdentity } from './tls/client-identity.ts';

/** `internal_publisher_upstream` and its timeout. */
export interface InternalPublisherUpstream {
  readonly url: string;
  readonly timeoutMs: number;
}

export interface InternalPublisherOptions {
  readonly hub: Hub;
  /** Bytes; 0 = the publisher's default (1 MiB). */
  readonly maxBodySize: number;
  readonly logger: Logger;
  readonly upstream?: InternalPublisherUpstream;
}

export function createInternalPublisher(options: InternalPublisherOptions): InternalPubsubHandler {
  const { upstream, logger } = options;
  return createInternalPubsubHandler({
    hub: options.hub,
    ...(options.maxBodySize > 0 ? { maxBodySize: options.maxBodySize } : {}),
    ...(upstream
      ? {
          upstream: {
            ...upstream,
            // The publisher only gets 502: the reason is for the operator.
            onDown: (error: Error) => logger.warn({ event: 'publisher_upstream_failed', url: upstream.url, error: error.message }, 'internal publisher: upstream request failed'),
          },
          clientCert: (req) => clientCertIdentity(req.socket),
        }
      : {}),
  });
}
